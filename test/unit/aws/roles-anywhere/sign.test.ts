// SigV4-X509 signer against the shared vectors, plus the encoding rules and one must-fail case.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPrivateKey, verify, X509Certificate } from "node:crypto";
import {
  canonicalQueryString,
  encodeRfc3986,
  formatAmzDate,
  serialToDecimal,
  signRolesAnywhereRequest,
  type RolesAnywhereSignInput,
} from "../../../../src/aws/roles-anywhere/sign.ts";
import { ConfigError } from "../../../../src/core/errors.ts";

const FIX = fileURLToPath(new URL("../../../fixtures/rolesanywhere/", import.meta.url));
const read = (rel: string) => readFileSync(join(FIX, rel));

interface VectorCase {
  name: string;
  inputs: {
    date: string;
    region: string;
    method: string;
    host: string;
    path: string;
    query: Array<[string, string]>;
    body: string;
    certificateFile: string;
    privateKeyFile: string;
    intermediatesFile: string | null;
  };
  expected: Record<string, unknown> & { stringToSign: string; signature: string; requestHeaders: Record<string, string> };
}
const load = (file: string): VectorCase[] => (JSON.parse(read(file).toString("utf8")) as { cases: VectorCase[] }).cases;

function pemDers(pem: Buffer): Buffer[] {
  return [...pem.toString("latin1").matchAll(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g)].map((m) =>
    Buffer.from(m[1]!.replace(/\s+/g, ""), "base64"),
  );
}

function inputFor(c: VectorCase, override: Partial<RolesAnywhereSignInput> = {}): RolesAnywhereSignInput {
  const cert = new X509Certificate(read(c.inputs.certificateFile));
  return {
    method: c.inputs.method,
    host: c.inputs.host,
    path: c.inputs.path,
    query: c.inputs.query,
    body: c.inputs.body,
    date: new Date(c.inputs.date),
    region: c.inputs.region,
    certificate: cert.raw,
    chain: c.inputs.intermediatesFile ? pemDers(read(c.inputs.intermediatesFile)) : [],
    privateKey: createPrivateKey(read(c.inputs.privateKeyFile)),
    serialDecimal: serialToDecimal(cert.serialNumber),
    ...override,
  };
}

const rsaCases = load("vector-rsa.json");
const ecCases = load("vector-ec.json");

test("the vector files hold five RSA cases and two EC cases", () => {
  assert.equal(rsaCases.length, 5);
  assert.equal(ecCases.length, 2);
});

for (const c of rsaCases) {
  test(`reproduces every expected field of RSA vector ${c.name} byte for byte, signature included`, () => {
    const out = signRolesAnywhereRequest(inputFor(c));
    for (const [field, want] of Object.entries(c.expected)) {
      assert.deepEqual((out as unknown as Record<string, unknown>)[field], want, `field ${field}`);
    }
  });
}

for (const c of ecCases) {
  test(`matches EC vector ${c.name} up to the string to sign and produces a DER signature the leaf key verifies`, () => {
    const out = signRolesAnywhereRequest(inputFor(c));
    const deterministic = [
      "url",
      "x509",
      "x509Chain",
      "serialDecimal",
      "amzDate",
      "canonicalQueryString",
      "canonicalHeaders",
      "signedHeaders",
      "payloadHash",
      "canonicalRequest",
      "canonicalRequestHash",
      "credentialScope",
      "stringToSign",
      "authorizationWithoutSignature",
    ];
    for (const field of deterministic) assert.deepEqual((out as unknown as Record<string, unknown>)[field], c.expected[field], `field ${field}`);
    const { Authorization: _ours, ...ourHeaders } = out.requestHeaders;
    const { Authorization: _theirs, ...theirHeaders } = c.expected.requestHeaders;
    assert.deepEqual(ourHeaders, theirHeaders);
    assert.equal(out.authorization, out.authorizationWithoutSignature + out.signature);
    assert.equal(out.signature.slice(0, 2), "30", "DER SEQUENCE, not raw r||s");

    const publicKey = new X509Certificate(read(c.inputs.certificateFile)).publicKey;
    const sts = Buffer.from(c.expected.stringToSign, "utf8");
    assert.ok(verify("sha256", sts, { key: publicKey, dsaEncoding: "der" }, Buffer.from(out.signature, "hex")), "our signature verifies");
    assert.ok(verify("sha256", sts, { key: publicKey, dsaEncoding: "der" }, Buffer.from(c.expected.signature, "hex")), "the sample signature verifies");
  });
}

test("a body with one flipped byte changes the RSA signature and fails verification against the vector's string to sign (must fail by design)", () => {
  const c = rsaCases[0]!;
  const flipped = c.inputs.body.replace("3600", "3601");
  assert.notEqual(flipped, c.inputs.body);
  const out = signRolesAnywhereRequest(inputFor(c, { body: flipped }));
  assert.notEqual(out.payloadHash, c.expected.payloadHash);
  assert.notEqual(out.signature, c.expected.signature);
  const publicKey = new X509Certificate(read(c.inputs.certificateFile)).publicKey;
  assert.equal(verify("sha256", Buffer.from(c.expected.stringToSign, "utf8"), publicKey, Buffer.from(out.signature, "hex")), false);
});

test("a body with one flipped byte yields an EC signature that does not verify against the vector's string to sign (must fail by design)", () => {
  const c = ecCases[0]!;
  const out = signRolesAnywhereRequest(inputFor(c, { body: c.inputs.body.replace("3600", "3601") }));
  assert.notEqual(out.stringToSign, c.expected.stringToSign);
  const publicKey = new X509Certificate(read(c.inputs.certificateFile)).publicKey;
  assert.equal(
    verify("sha256", Buffer.from(c.expected.stringToSign, "utf8"), { key: publicKey, dsaEncoding: "der" }, Buffer.from(out.signature, "hex")),
    false,
  );
});

test("signs with a P-384 key as AWS4-X509-ECDSA-SHA256 using SHA-256", () => {
  const cert = new X509Certificate(read("extra/leaf-ec-p384.cert.pem"));
  const out = signRolesAnywhereRequest({
    ...inputFor(ecCases[0]!),
    certificate: cert.raw,
    privateKey: createPrivateKey(read("extra/leaf-ec-p384.key.pem")),
    serialDecimal: serialToDecimal(cert.serialNumber),
  });
  assert.equal(out.algorithm, "AWS4-X509-ECDSA-SHA256");
  assert.ok(verify("sha256", Buffer.from(out.stringToSign, "utf8"), { key: cert.publicKey, dsaEncoding: "der" }, Buffer.from(out.signature, "hex")));
});

test("refuses an Ed25519 key with a ConfigError coded RA_KEY_UNSUPPORTED", () => {
  assert.throws(
    () => signRolesAnywhereRequest(inputFor(rsaCases[0]!, { privateKey: createPrivateKey(read("extra/leaf-ed25519.key.pem")) })),
    (e: unknown) => e instanceof ConfigError && e.code === "RA_KEY_UNSUPPORTED",
  );
});

test("uses the http scheme in the URL only when asked and keeps a non-default port in the signed host", () => {
  const out = signRolesAnywhereRequest(inputFor(rsaCases[0]!, { host: "127.0.0.1:8443", scheme: "http" }));
  assert.ok(out.url.startsWith("http://127.0.0.1:8443/sessions?profileArn="));
  assert.match(out.canonicalHeaders, /^host:127\.0\.0\.1:8443$/m);
  assert.equal(out.headers.host, "127.0.0.1:8443");
});

const encodings: Array<[string, string, string]> = [
  ["keeps the unreserved characters", "AZaz09-_.~", "AZaz09-_.~"],
  ["encodes a space as %20, never +", "a b", "a%20b"],
  ["encodes * which URLSearchParams leaves alone", "a*b", "a%2Ab"],
  ["encodes + @ : and / with upper-case hex", "+@:/", "%2B%40%3A%2F"],
  ["encodes each UTF-8 byte of a non-ASCII character", "é", "%C3%A9"],
];
for (const [name, input, want] of encodings) {
  test(`RFC 3986 encoding ${name}`, () => assert.equal(encodeRfc3986(input), want));
}

test("the canonical query sorts pairs by encoded name and is empty without pairs", () => {
  assert.equal(
    canonicalQueryString([
      ["b", "2"],
      ["a", "x y"],
      ["B", "1"],
    ]),
    "B=1&a=x%20y&b=2",
  );
  assert.equal(canonicalQueryString([]), "");
});

test("formats X-Amz-Date as YYYYMMDDTHHMMSSZ dropping milliseconds", () => {
  assert.equal(formatAmzDate(new Date("2025-06-15T12:34:56.789Z")), "20250615T123456Z");
});

test("turns a hex serial with a high bit into its unsigned decimal form", () => {
  assert.equal(serialToDecimal("F1E2D3C4B5A69788796A5B4C3D2E1F10"), "321521701247558003770699513734837968656");
  assert.equal(serialToDecimal("7A:3B:2C:1D:0E:0F:1A:2B"), "8807681999554681387");
});
