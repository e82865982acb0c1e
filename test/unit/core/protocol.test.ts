import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { decodeRequest, encodeResponse, API_VERSIONS } from "../../../src/core/protocol.ts";
import { InputError } from "../../../src/core/errors.ts";
import { kubeletAccepts } from "../../helpers/kubelet-accept.ts";

const vectors = JSON.parse(readFileSync(new URL("../../fixtures/kubelet-responses.json", import.meta.url), "utf8")).cases as any[];

for (const c of vectors) {
  test(`the kubelet acceptance emulation agrees with vector ${c.id} (${c.accepted ? "accepted" : "rejected"})`, () => {
    const v = kubeletAccepts({
      stdout: c.stdout,
      exitCode: c.exitCode,
      configuredApiVersion: c.configuredApiVersion,
      serviceAccountTokenSent: c.serviceAccountTokenSent,
      tokenAttributesCacheType: c.tokenAttributesCacheType,
    });
    assert.equal(v.accepted, c.accepted, v.accepted ? "accepted" : v.reason);
  });
}

for (const apiVersion of API_VERSIONS) {
  test(`a response encoded for ${apiVersion} is accepted by a kubelet configured for ${apiVersion}`, () => {
    const out = encodeResponse({ apiVersion, cacheKeyType: "Registry", cacheDuration: "6h0m0s", auth: { "r.example": { username: "AWS", password: "p:q" } } });
    const v = kubeletAccepts({ stdout: out, exitCode: 0, configuredApiVersion: apiVersion });
    assert.ok(v.accepted);
    assert.equal(out.split("\n").length, 2, "exactly one line and a newline");
  });
}

test("encodeResponse drops any extra field a caller slips into an auth entry", () => {
  const out = encodeResponse({
    apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    cacheKeyType: "Registry",
    cacheDuration: "0s",
    auth: { r: { username: "u", password: "p", email: "x" } as any },
  });
  assert.deepEqual(JSON.parse(out).auth.r, { username: "u", password: "p" });
});

test("decodeRequest reads the kubelet's exact v1 bytes with service-account fields", () => {
  const req = decodeRequest(
    '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"test.registry.io/foobar","serviceAccountToken":"service-account-token","serviceAccountAnnotations":{"domain.io/annotation1":"value1"}}\n',
  );
  assert.equal(req.image, "test.registry.io/foobar");
  assert.equal(req.serviceAccountToken, "service-account-token");
  assert.deepEqual(req.serviceAccountAnnotations, { "domain.io/annotation1": "value1" });
});

test("decodeRequest ignores service-account fields in a v1beta1 request and unknown fields anywhere", () => {
  const req = decodeRequest(
    JSON.stringify({
      kind: "CredentialProviderRequest",
      apiVersion: "credentialprovider.kubelet.k8s.io/v1beta1",
      image: "x",
      serviceAccountToken: "t",
      future: 1,
    }),
  );
  assert.equal(req.serviceAccountToken, undefined);
  assert.equal(req.apiVersion, "credentialprovider.kubelet.k8s.io/v1beta1");
});

test("decodeRequest reads escaped characters the Go encoder produces", () => {
  const req = decodeRequest('{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"a\\u003cb\\u0026c"}');
  assert.equal(req.image, "a<b&c");
});

const bad: [string, string, string][] = [
  ["an empty stdin", "", "empty_request"],
  ["a non-JSON stdin", "kind: x", "bad_request_json"],
  ["a JSON array", "[]", "bad_request_json"],
  ["an unknown apiVersion", '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v2","image":"x"}', "unsupported_api_version"],
  ["a wrong kind", '{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"x"}', "bad_kind"],
  ["a numeric image", '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":5}', "bad_image"],
  [
    "a non-string token",
    '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"x","serviceAccountToken":{}}',
    "bad_sa_token",
  ],
  [
    "annotations that are not strings",
    '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"x","serviceAccountAnnotations":{"a":1}}',
    "bad_sa_annotations",
  ],
];
for (const [what, input, code] of bad) {
  test(`decodeRequest refuses ${what} with code ${code}`, () => {
    assert.throws(
      () => decodeRequest(input),
      (e: unknown) => e instanceof InputError && e.code === code && e.exitCode === 2,
    );
  });
}

test("decodeRequest never echoes a token from malformed input", () => {
  const secret = "eyJSECRETTOKEN";
  try {
    decodeRequest(`{"kind":"CredentialProviderRequest","serviceAccountToken":"${secret}",`);
    assert.fail("should throw");
  } catch (e) {
    assert.ok(!(e as Error).message.includes(secret));
  }
});
