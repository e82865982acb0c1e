// The loopback fake CreateSession server accepts well-signed requests and rejects every tampered one of spec §5.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as http from "node:http";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { serialToDecimal, signRolesAnywhereRequest, type RolesAnywhereSignInput } from "../../../../src/aws/roles-anywhere/sign.ts";
import { startFakeRolesAnywhere, type FakeRejection, type FakeRolesAnywhereOptions } from "../../../helpers/fake-rolesanywhere.ts";

const FIX = fileURLToPath(new URL("../../../fixtures/rolesanywhere/", import.meta.url));
const read = (rel: string) => readFileSync(join(FIX, rel));
const NOW = new Date("2025-06-15T12:34:56Z");
const ROOT = read("pki/root-ca.cert.pem").toString("utf8");
const INTERMEDIATE = read("pki/intermediate-ca.cert.pem").toString("utf8");
const TA = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const PROFILE = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809";
const ROLE = "arn:aws:iam::123456789012:role/onprem/kubelet-ecr+pull@nodes";
const QUERY: Array<[string, string]> = [
  ["profileArn", PROFILE],
  ["roleArn", ROLE],
  ["trustAnchorArn", TA],
];

function identity(leaf: "rsa" | "ec" | "foreign") {
  const files = {
    rsa: ["pki/leaf-rsa.cert.pem", "pki/leaf-rsa.key.pem"],
    ec: ["pki/leaf-ec-p256.cert.pem", "pki/leaf-ec-p256.key.pem"],
    foreign: ["extra/foreign-leaf.cert.pem", "extra/foreign-leaf.key.pem"],
  }[leaf];
  const cert = new X509Certificate(read(files[0]!));
  return { certificate: cert.raw, privateKey: createPrivateKey(read(files[1]!)), serialDecimal: serialToDecimal(cert.serialNumber) };
}
const intermediateDer = new X509Certificate(INTERMEDIATE).raw;

/** A request as it goes on the wire: tamper with any part after signing. */
interface Wire {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
}

function signFor(host: string, over: Partial<RolesAnywhereSignInput> & { leaf?: "rsa" | "ec" | "foreign" } = {}): Wire {
  const { leaf = "rsa", ...rest } = over;
  const input: RolesAnywhereSignInput = {
    method: "POST",
    host,
    path: "/sessions",
    query: QUERY,
    body: '{"durationSeconds":3600}',
    date: NOW,
    region: "us-east-1",
    chain: [],
    scheme: "http",
    ...identity(leaf),
    ...rest,
  };
  const s = signRolesAnywhereRequest(input);
  return { method: "POST", path: "/sessions", query: s.canonicalQueryString, headers: { ...s.headers }, body: input.body };
}

function send(url: string, w: Wire): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${w.path}${w.query ? "?" + w.query : ""}`, { method: w.method, headers: w.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(w.body);
  });
}

const hostOf = (url: string) => new URL(url).host;

interface Case {
  name: string;
  fake?: Partial<FakeRolesAnywhereOptions>;
  wire: (host: string) => Wire;
  status: number;
  type?: string;
  rejection?: FakeRejection;
}

const accepted: Case[] = [
  { name: "accepts an RSA request with the ARNs in the query and no chain when the intermediate is an anchor", wire: (h) => signFor(h), status: 201 },
  {
    name: "accepts an RSA request with the ARNs in the body and an empty query",
    wire: (h) => signFor(h, { query: [], body: JSON.stringify({ durationSeconds: 3600, profileArn: PROFILE, roleArn: ROLE, trustAnchorArn: TA }) }),
    status: 201,
  },
  {
    name: "accepts an EC request that sends the intermediate as a chain when only the root is an anchor",
    fake: { trustAnchors: [ROOT] },
    wire: (h) => signFor(h, { leaf: "ec", chain: [intermediateDer] }),
    status: 201,
  },
  {
    name: "accepts a request signed exactly five minutes before the fake's clock",
    wire: (h) => signFor(h, { date: new Date(NOW.getTime() - 300_000) }),
    status: 201,
  },
];

const tampered: Case[] = [
  {
    name: "rejects a request whose body was changed after signing",
    wire: (h) => ({ ...signFor(h), body: '{"durationSeconds":3601}' }),
    status: 403,
    type: "AccessDeniedException",
    rejection: "signature",
  },
  {
    name: "rejects a request whose query was changed after signing",
    wire: (h) => {
      const w = signFor(h);
      return { ...w, query: w.query.replace("kubelet-ecr", "kubelet-ecs") };
    },
    status: 403,
    type: "AccessDeniedException",
    rejection: "signature",
  },
  {
    name: "rejects a request signed for another host than the one it reached",
    wire: (h) => {
      const w = signFor("rolesanywhere.us-east-1.amazonaws.com");
      return { ...w, headers: { ...w.headers, host: h } };
    },
    status: 403,
    type: "AccessDeniedException",
    rejection: "signature",
  },
  {
    name: "rejects a request whose signature has one hex digit changed",
    wire: (h) => {
      const w = signFor(h);
      const a = w.headers.authorization!;
      return { ...w, headers: { ...w.headers, authorization: a.slice(0, -1) + (a.endsWith("0") ? "1" : "0") } };
    },
    status: 403,
    type: "AccessDeniedException",
    rejection: "signature",
  },
  {
    name: "rejects a request whose credential carries the serial in hex",
    wire: (h) => {
      const w = signFor(h);
      return {
        ...w,
        headers: { ...w.headers, authorization: w.headers.authorization!.replace(/Credential=\d+/, "Credential=F1E2D3C4B5A69788796A5B4C3D2E1F10") },
      };
    },
    status: 403,
    type: "AccessDeniedException",
    rejection: "authorization",
  },
  {
    name: "rejects a request whose credential carries another certificate's decimal serial",
    wire: (h) => signFor(h, { serialDecimal: "321521701247558003770699513734837968657" }),
    status: 403,
    type: "AccessDeniedException",
    rejection: "serial",
  },
  {
    name: "rejects a request scoped to a region other than the fake's",
    wire: (h) => signFor(h, { region: "eu-west-1" }),
    status: 403,
    type: "AccessDeniedException",
    rejection: "region",
  },
  {
    name: "rejects a request signed more than five minutes before the fake's clock",
    wire: (h) => signFor(h, { date: new Date(NOW.getTime() - 301_000) }),
    status: 403,
    type: "AccessDeniedException",
    rejection: "skew",
  },
  {
    name: "rejects a request signed more than five minutes after the fake's clock",
    wire: (h) => signFor(h, { date: new Date(NOW.getTime() + 301_000) }),
    status: 403,
    type: "AccessDeniedException",
    rejection: "skew",
  },
  {
    name: "rejects a request that sends a chain header it did not sign",
    fake: { trustAnchors: [ROOT] },
    wire: (h) => {
      const w = signFor(h);
      return { ...w, headers: { ...w.headers, "x-amz-x509-chain": intermediateDer.toString("base64") } };
    },
    status: 403,
    type: "AccessDeniedException",
    rejection: "signed-headers",
  },
  {
    name: "rejects a request without a chain when only the root is a trust anchor",
    fake: { trustAnchors: [ROOT] },
    wire: (h) => signFor(h),
    status: 403,
    type: "AccessDeniedException",
    rejection: "untrusted",
  },
  {
    name: "rejects a correctly signed request from a certificate of a foreign root",
    wire: (h) => signFor(h, { leaf: "foreign" }),
    status: 403,
    type: "AccessDeniedException",
    rejection: "untrusted",
  },
  {
    name: "rejects a request whose chain leads to our root when only a foreign root is trusted",
    fake: { trustAnchors: [read("extra/foreign-root.cert.pem").toString("utf8")] },
    wire: (h) => signFor(h, { chain: [intermediateDer] }),
    status: 403,
    type: "AccessDeniedException",
    rejection: "untrusted",
  },
  {
    name: "rejects a request asking for 899 seconds",
    wire: (h) => signFor(h, { body: '{"durationSeconds":899}' }),
    status: 400,
    type: "ValidationException",
    rejection: "duration",
  },
  {
    name: "rejects a request asking for 43201 seconds",
    wire: (h) => signFor(h, { body: '{"durationSeconds":43201}' }),
    status: 400,
    type: "ValidationException",
    rejection: "duration",
  },
  {
    name: "rejects a request that names no role ARN",
    wire: (h) => signFor(h, { query: QUERY.filter(([k]) => k !== "roleArn") }),
    status: 400,
    type: "ValidationException",
    rejection: "parameters",
  },
  {
    name: "rejects a request with an RSA certificate that claims the ECDSA algorithm",
    wire: (h) => {
      const w = signFor(h);
      return { ...w, headers: { ...w.headers, authorization: w.headers.authorization!.replace("AWS4-X509-RSA-SHA256", "AWS4-X509-ECDSA-SHA256") } };
    },
    status: 403,
    type: "AccessDeniedException",
    rejection: "key-type",
  },
  {
    name: "rejects a request whose leaf certificate has expired by the fake's clock",
    fake: { now: () => new Date("2035-01-01T00:00:01Z") },
    wire: (h) => signFor(h, { date: new Date("2035-01-01T00:00:01Z") }),
    status: 403,
    type: "AccessDeniedException",
    rejection: "leaf-validity",
  },
  {
    name: "rejects a request that presents the root CA as its signing certificate",
    wire: (h) => {
      const root = new X509Certificate(ROOT);
      return signFor(h, {
        certificate: root.raw,
        privateKey: createPrivateKey(read("pki/root-ca.key.pem")),
        serialDecimal: serialToDecimal(root.serialNumber),
      });
    },
    status: 403,
    type: "AccessDeniedException",
    rejection: "leaf-is-ca",
  },
  {
    name: "rejects a roleSessionName when the profile does not accept one",
    fake: { acceptRoleSessionName: false },
    wire: (h) => signFor(h, { body: '{"durationSeconds":900,"roleSessionName":"node-rsa-01"}' }),
    status: 403,
    type: "AccessDeniedException",
    rejection: "role-session-name",
  },
  {
    name: "rejects a role that is not the profile's",
    fake: { expect: { roleArn: "arn:aws:iam::123456789012:role/other" } },
    wire: (h) => signFor(h),
    status: 403,
    type: "AccessDeniedException",
    rejection: "resource",
  },
  {
    name: "answers 404 for a GET on /sessions",
    wire: (h) => ({ ...signFor(h), method: "GET", body: "" }),
    status: 404,
    type: "UnknownOperationException",
    rejection: "route",
  },
  {
    name: "answers a verified request with the injected failure",
    fake: { failWith: { status: 503, type: "ServiceUnavailableException", message: "try later" } },
    wire: (h) => signFor(h),
    status: 503,
    type: "ServiceUnavailableException",
    rejection: "injected",
  },
];

for (const c of [...accepted, ...tampered]) {
  test(`the fake ${c.name}`, async () => {
    const fake = await startFakeRolesAnywhere({ trustAnchors: [ROOT, INTERMEDIATE], region: "us-east-1", now: () => NOW, ...c.fake });
    try {
      const res = await send(fake.url, c.wire(hostOf(fake.url)));
      assert.equal(res.status, c.status, res.body);
      assert.equal(fake.calls.length, 1);
      const call = fake.calls[0]!;
      assert.equal(call.status, c.status);
      if (c.status === 201) {
        assert.equal(fake.issued.length, 1);
        const body = JSON.parse(res.body) as { credentialSet: Array<{ credentials: Record<string, string> }> };
        assert.deepEqual(body.credentialSet[0]!.credentials.accessKeyId, fake.issued[0]!.accessKeyId);
        assert.equal(res.headers["content-type"], "application/json");
      } else {
        assert.equal(fake.issued.length, 0, "no credentials for a refused request");
        assert.equal(call.errorType, c.type);
        assert.equal(call.rejection, c.rejection);
        assert.match(String(res.headers["x-amzn-errortype"]), new RegExp(`^${c.type}:`));
        assert.equal(typeof (JSON.parse(res.body) as { message?: unknown }).message, "string");
      }
    } finally {
      await fake.close();
    }
  });
}

test("the fake caps the session at the profile's duration and names the subject CN as source identity", async () => {
  const fake = await startFakeRolesAnywhere({ trustAnchors: [ROOT, INTERMEDIATE], region: "us-east-1", now: () => NOW, profileDurationSeconds: 1200 });
  try {
    const res = await send(fake.url, signFor(hostOf(fake.url)));
    assert.equal(res.status, 201);
    assert.equal(fake.issued[0]!.expiration, "2025-06-15T12:54:56Z");
    assert.equal(fake.issued[0]!.sourceIdentity, "node-rsa.example.internal");
    assert.equal(fake.issued[0]!.serialDecimal, "321521701247558003770699513734837968656");
  } finally {
    await fake.close();
  }
});
