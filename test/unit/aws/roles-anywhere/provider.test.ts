// Roles Anywhere loading/validation, endpoints, CreateSession over loopback HTTP, error mapping, memoisation and cache identity.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { createHash, X509Certificate } from "node:crypto";
import {
  createSession,
  fromRolesAnywhere,
  loadRolesAnywhere,
  resolveRolesAnywhereEndpoint,
  rolesAnywhereIdentity,
  type RolesAnywhereDeps,
  type RolesAnywhereHttp,
  type RolesAnywhereHttpRequest,
  type RolesAnywhereOptions,
} from "../../../../src/aws/roles-anywhere/provider.ts";
import { ConfigError, CredentialsError, PluginError, UpstreamError } from "../../../../src/core/errors.ts";
import { createLogger } from "../../../../src/core/log.ts";
import { startFakeRolesAnywhere, type FakeRolesAnywhereOptions } from "../../../helpers/fake-rolesanywhere.ts";

const FIX = fileURLToPath(new URL("../../../fixtures/rolesanywhere/", import.meta.url));
const NOW = new Date("2025-06-15T12:34:56Z");
const TA = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const PROFILE = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809";
const ROLE = "arn:aws:iam::123456789012:role/onprem/kubelet-ecr+pull@nodes";
const PASSPHRASE = "password"; // the fixtures' encrypted keys
const WRONG_PASSPHRASE = "Wr0ng-Passphrase-Never-Printed";

// An in-memory file system: every fixture under /pki and /extra, plus files made for one failure each.
const FILES = new Map<string, Buffer>();
for (const dir of ["pki", "extra"]) {
  for (const name of readdirSync(join(FIX, dir))) FILES.set(`/${dir}/${name}`, readFileSync(join(FIX, dir, name)));
}
const file = (p: string): Buffer => FILES.get(p)!;
FILES.set("/bad/six-intermediates.pem", Buffer.concat(Array.from({ length: 6 }, () => file("/pki/intermediates.pem"))));
FILES.set("/bad/intermediates-with-key.pem", Buffer.concat([file("/pki/intermediates.pem"), file("/pki/intermediate-ca.key.pem")]));
FILES.set("/bad/corrupt-cert.pem", Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBAAAAAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n"));
FILES.set("/bad/garbage-key.pem", Buffer.from("this is not a key\n"));
FILES.set("/combo/leaf-rsa-with-key.pem", Buffer.concat([file("/pki/leaf-rsa.cert.pem"), file("/pki/leaf-rsa.key.pem")]));

const readFile = async (p: string): Promise<Buffer> => {
  const data = FILES.get(p);
  if (!data) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: "ENOENT" });
  return data;
};

/** Lines of every key and certificate fixture: none may ever appear in an error message. */
const SENSITIVE = [...FILES.entries()]
  .filter(([p]) => p.endsWith(".pem") && !p.startsWith("/bad/"))
  .flatMap(([, b]) => b.toString("utf8").split("\n"))
  .filter((l) => l.length >= 16 && !l.startsWith("-----"));

function assertSafeMessage(err: unknown): void {
  const msg = (err as Error).message;
  assert.ok(!msg.includes(PASSPHRASE), "no passphrase");
  assert.ok(!msg.includes(WRONG_PASSPHRASE), "no passphrase");
  assert.ok(!msg.includes("-----BEGIN"), "no PEM");
  for (const line of SENSITIVE) assert.ok(!msg.includes(line), "no key or certificate material");
  assert.ok(!msg.includes("\n"), "one line");
}

const BASE: RolesAnywhereOptions = {
  trustAnchorArn: TA,
  profileArn: PROFILE,
  roleArn: ROLE,
  certificatePath: "/pki/leaf-rsa.cert.pem",
  privateKeyPath: "/pki/leaf-rsa.key.pem",
};

/** A transport that must not be reached. */
function neverSend(): RolesAnywhereHttp & { calls: number } {
  const f = (async () => {
    f.calls++;
    throw new Error("the network must not be used");
  }) as unknown as RolesAnywhereHttp & { calls: number };
  f.calls = 0;
  return f;
}

// ---------------------------------------------------------------------------------------------
// Validation before any network call

interface BadCase {
  name: string;
  options: Partial<RolesAnywhereOptions>;
  now?: Date;
  code: string;
}
const bad: BadCase[] = [
  { name: "an unreadable certificate file", options: { certificatePath: "/missing/cert.pem" }, code: "RA_FILE_UNREADABLE" },
  { name: "an unreadable private key file", options: { privateKeyPath: "/missing/key.pem" }, code: "RA_FILE_UNREADABLE" },
  { name: "an unreadable intermediates file", options: { intermediatesPath: "/missing/chain.pem" }, code: "RA_FILE_UNREADABLE" },
  { name: "a certificate file that holds only a private key", options: { certificatePath: "/pki/leaf-rsa.key.pem" }, code: "RA_NO_CERTIFICATE" },
  { name: "a certificate file whose certificate cannot be parsed", options: { certificatePath: "/bad/corrupt-cert.pem" }, code: "RA_CERT_INVALID" },
  { name: "a certificate that is not valid yet", options: {}, now: new Date("2024-12-31T23:59:59Z"), code: "RA_CERT_NOT_YET_VALID" },
  { name: "a certificate that has expired", options: {}, now: new Date("2035-01-01T00:00:01Z"), code: "RA_CERT_EXPIRED" },
  { name: "an EC key for an RSA certificate", options: { privateKeyPath: "/pki/leaf-ec-p256.key.pem" }, code: "RA_KEY_MISMATCH" },
  { name: "another RSA key for the RSA certificate", options: { privateKeyPath: "/extra/foreign-leaf.key.pem" }, code: "RA_KEY_MISMATCH" },
  {
    name: "an Ed25519 key",
    options: { certificatePath: "/extra/leaf-ed25519.cert.pem", privateKeyPath: "/extra/leaf-ed25519.key.pem" },
    code: "RA_KEY_UNSUPPORTED",
  },
  {
    name: "an encrypted key with a wrong passphrase",
    options: { privateKeyPath: "/pki/leaf-rsa.pkcs8-encrypted.pem", passphrase: WRONG_PASSPHRASE },
    code: "RA_KEY_PASSPHRASE_WRONG",
  },
  { name: "an encrypted key without a passphrase", options: { privateKeyPath: "/pki/leaf-rsa.pkcs8-encrypted.pem" }, code: "RA_KEY_PASSPHRASE_MISSING" },
  { name: "a key file that holds no key", options: { privateKeyPath: "/bad/garbage-key.pem" }, code: "RA_KEY_INVALID" },
  { name: "six intermediates", options: { intermediatesPath: "/bad/six-intermediates.pem" }, code: "RA_CHAIN_TOO_LONG" },
  { name: "an intermediates file that also holds a private key", options: { intermediatesPath: "/bad/intermediates-with-key.pem" }, code: "RA_CHAIN_INVALID" },
  { name: "a trust anchor ARN that names a profile", options: { trustAnchorArn: PROFILE }, code: "RA_ARN_INVALID" },
  { name: "a profile ARN with an 11-digit account", options: { profileArn: PROFILE.replace("123456789012", "12345678901") }, code: "RA_ARN_INVALID" },
  { name: "a role ARN with a region", options: { roleArn: "arn:aws:iam:us-east-1:123456789012:role/x" }, code: "RA_ARN_INVALID" },
  { name: "a role ARN that names a user", options: { roleArn: "arn:aws:iam::123456789012:user/x" }, code: "RA_ARN_INVALID" },
  { name: "a role ARN in another partition", options: { roleArn: ROLE.replace("arn:aws:", "arn:aws-cn:") }, code: "RA_ARN_PARTITION_MISMATCH" },
  {
    name: "an aws-cn trust anchor in a commercial region",
    options: {
      trustAnchorArn: TA.replace("arn:aws:", "arn:aws-cn:"),
      profileArn: PROFILE.replace("arn:aws:", "arn:aws-cn:"),
      roleArn: ROLE.replace("arn:aws:", "arn:aws-cn:"),
    },
    code: "RA_ARN_PARTITION_MISMATCH",
  },
  {
    name: "a profile in another region than the trust anchor",
    options: { profileArn: PROFILE.replace("us-east-1", "us-west-2") },
    code: "RA_ARN_REGION_MISMATCH",
  },
  { name: "a session of 899 seconds", options: { durationSeconds: 899 }, code: "RA_DURATION_INVALID" },
  { name: "a session of 43201 seconds", options: { durationSeconds: 43201 }, code: "RA_DURATION_INVALID" },
  { name: "a session of 3600.5 seconds", options: { durationSeconds: 3600.5 }, code: "RA_DURATION_INVALID" },
  { name: "a role session name with a space", options: { roleSessionName: "node 01" }, code: "RA_SESSION_NAME_INVALID" },
  {
    name: "FIPS asked for in a region without a FIPS endpoint",
    options: { useFips: true, trustAnchorArn: TA.replace("us-east-1", "eu-west-1"), profileArn: PROFILE.replace("us-east-1", "eu-west-1") },
    code: "RA_FIPS_UNSUPPORTED",
  },
  { name: "an endpoint override with a path", options: { endpointUrl: "https://vpce.example.com/prefix" }, code: "RA_ENDPOINT_INVALID" },
  { name: "an endpoint override that is not http(s)", options: { endpointUrl: "ftp://vpce.example.com" }, code: "RA_ENDPOINT_INVALID" },
  { name: "an endpoint override that is not a URL", options: { endpointUrl: "not a url" }, code: "RA_ENDPOINT_INVALID" },
];

for (const c of bad) {
  test(`createSession rejects ${c.name} with ConfigError ${c.code} before any network call`, async () => {
    const send = neverSend();
    await assert.rejects(createSession({ ...BASE, ...c.options }, { now: () => c.now ?? NOW, readFile, send }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, `ConfigError, got ${String(err)}`);
      assert.equal(err.code, c.code);
      assert.equal(err.exitCode, 3);
      assertSafeMessage(err);
      return true;
    });
    assert.equal(send.calls, 0, "never calls CreateSession");
  });
}

test("a message about an unreadable file names the path", async () => {
  await assert.rejects(loadRolesAnywhere({ ...BASE, certificatePath: "/missing/cert.pem" }, { now: () => NOW, readFile }), /\/missing\/cert\.pem/);
});

interface GoodCase {
  name: string;
  options: Partial<RolesAnywhereOptions>;
  serial: string;
  chain: number;
}
const good: GoodCase[] = [
  { name: "a PKCS#8 RSA key", options: {}, serial: "321521701247558003770699513734837968656", chain: 0 },
  { name: "a PKCS#1 RSA key", options: { privateKeyPath: "/pki/leaf-rsa.pkcs1.pem" }, serial: "321521701247558003770699513734837968656", chain: 0 },
  {
    name: "an encrypted PKCS#8 RSA key and its passphrase",
    options: { privateKeyPath: "/pki/leaf-rsa.pkcs8-encrypted.pem", passphrase: PASSPHRASE },
    serial: "321521701247558003770699513734837968656",
    chain: 0,
  },
  {
    name: "a PKCS#8 EC P-256 key",
    options: { certificatePath: "/pki/leaf-ec-p256.cert.pem", privateKeyPath: "/pki/leaf-ec-p256.key.pem" },
    serial: "8807681999554681387",
    chain: 0,
  },
  {
    name: "a SEC1 EC key",
    options: { certificatePath: "/pki/leaf-ec-p256.cert.pem", privateKeyPath: "/pki/leaf-ec-p256.sec1.pem" },
    serial: "8807681999554681387",
    chain: 0,
  },
  {
    name: "an encrypted PKCS#8 EC key and its passphrase",
    options: { certificatePath: "/pki/leaf-ec-p256.cert.pem", privateKeyPath: "/pki/leaf-ec-p256.pkcs8-encrypted.pem", passphrase: PASSPHRASE },
    serial: "8807681999554681387",
    chain: 0,
  },
  {
    name: "an EC P-384 key",
    options: { certificatePath: "/extra/leaf-ec-p384.cert.pem", privateKeyPath: "/extra/leaf-ec-p384.key.pem" },
    serial: String(0x2003),
    chain: 0,
  },
  {
    name: "a fullchain certificate file, whose second certificate becomes the chain",
    options: { certificatePath: "/pki/leaf-rsa.fullchain.pem" },
    serial: "321521701247558003770699513734837968656",
    chain: 1,
  },
  {
    name: "a fullchain certificate file and an intermediates file, which wins",
    options: { certificatePath: "/pki/leaf-rsa.fullchain.pem", intermediatesPath: "/pki/intermediates.pem" },
    serial: "321521701247558003770699513734837968656",
    chain: 1,
  },
  {
    name: "one file holding certificate and key, with no key path",
    options: { certificatePath: "/combo/leaf-rsa-with-key.pem", privateKeyPath: undefined },
    serial: "321521701247558003770699513734837968656",
    chain: 0,
  },
];
for (const c of good) {
  test(`loadRolesAnywhere accepts ${c.name}`, async () => {
    const m = await loadRolesAnywhere({ ...BASE, ...c.options }, { now: () => NOW, readFile });
    assert.equal(m.serialDecimal, c.serial);
    assert.equal(m.chainDer.length, c.chain);
    assert.equal(m.body, '{"durationSeconds":3600}');
    assert.deepEqual(
      m.query.map(([k]) => k),
      ["profileArn", "roleArn", "trustAnchorArn"],
    );
  });
}

test("loadRolesAnywhere registers the passphrase with the logger", async () => {
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", format: "text", write: (l) => lines.push(l), now: () => NOW });
  await loadRolesAnywhere({ ...BASE, privateKeyPath: "/pki/leaf-rsa.pkcs8-encrypted.pem", passphrase: PASSPHRASE }, { now: () => NOW, readFile, logger });
  logger.info(`echo ${PASSPHRASE}`);
  assert.ok(!lines.join("").includes(PASSPHRASE));
});

// ---------------------------------------------------------------------------------------------
// Endpoints

const arns = (partition: string, region: string) => ({
  trustAnchorArn: `arn:${partition}:rolesanywhere:${region}:123456789012:trust-anchor/ta`,
  profileArn: `arn:${partition}:rolesanywhere:${region}:123456789012:profile/p`,
  roleArn: `arn:${partition}:iam::123456789012:role/r`,
});
const endpoints: Array<[string, Partial<RolesAnywhereOptions>, { scheme: string; host: string; region: string; fips: boolean }]> = [
  [
    "uses the standard commercial host by default",
    arns("aws", "us-east-1"),
    { scheme: "https", host: "rolesanywhere.us-east-1.amazonaws.com", region: "us-east-1", fips: false },
  ],
  [
    "uses the FIPS host in us-west-2 when asked",
    { ...arns("aws", "us-west-2"), useFips: true },
    { scheme: "https", host: "rolesanywhere-fips.us-west-2.amazonaws.com", region: "us-west-2", fips: true },
  ],
  [
    "uses the .com.cn suffix in aws-cn",
    arns("aws-cn", "cn-northwest-1"),
    { scheme: "https", host: "rolesanywhere.cn-northwest-1.amazonaws.com.cn", region: "cn-northwest-1", fips: false },
  ],
  [
    "uses the FIPS host by default in GovCloud, scoped to the plain region",
    arns("aws-us-gov", "us-gov-west-1"),
    { scheme: "https", host: "rolesanywhere-fips.us-gov-west-1.amazonaws.com", region: "us-gov-west-1", fips: true },
  ],
  [
    "uses the standard GovCloud host when FIPS is turned off",
    { ...arns("aws-us-gov", "us-gov-east-1"), useFips: false },
    { scheme: "https", host: "rolesanywhere.us-gov-east-1.amazonaws.com", region: "us-gov-east-1", fips: false },
  ],
  [
    "uses c2s.ic.gov in aws-iso",
    arns("aws-iso", "us-iso-east-1"),
    { scheme: "https", host: "rolesanywhere.us-iso-east-1.c2s.ic.gov", region: "us-iso-east-1", fips: false },
  ],
  [
    "uses sc2s.sgov.gov in aws-iso-b",
    arns("aws-iso-b", "us-isob-east-1"),
    { scheme: "https", host: "rolesanywhere.us-isob-east-1.sc2s.sgov.gov", region: "us-isob-east-1", fips: false },
  ],
  [
    "uses cloud.adc-e.uk in aws-iso-e",
    arns("aws-iso-e", "eu-isoe-west-1"),
    { scheme: "https", host: "rolesanywhere.eu-isoe-west-1.cloud.adc-e.uk", region: "eu-isoe-west-1", fips: false },
  ],
  [
    "uses csp.hci.ic.gov in aws-iso-f",
    arns("aws-iso-f", "us-isof-south-1"),
    { scheme: "https", host: "rolesanywhere.us-isof-south-1.csp.hci.ic.gov", region: "us-isof-south-1", fips: false },
  ],
  [
    "uses amazonaws.eu in aws-eusc",
    arns("aws-eusc", "eusc-de-east-1"),
    { scheme: "https", host: "rolesanywhere.eusc-de-east-1.amazonaws.eu", region: "eusc-de-east-1", fips: false },
  ],
  [
    "lets an http override replace scheme, host and port but keep the ARN's region",
    { ...arns("aws", "eu-west-1"), endpointUrl: "http://127.0.0.1:8080" },
    { scheme: "http", host: "127.0.0.1:8080", region: "eu-west-1", fips: false },
  ],
  [
    "drops the default port of an https override from the signed host",
    { ...arns("aws-us-gov", "us-gov-west-1"), endpointUrl: "https://vpce-1.rolesanywhere.us-gov-west-1.vpce.amazonaws.com:443/" },
    { scheme: "https", host: "vpce-1.rolesanywhere.us-gov-west-1.vpce.amazonaws.com", region: "us-gov-west-1", fips: false },
  ],
];
for (const [name, options, want] of endpoints) {
  test(`the endpoint resolver ${name}`, () => {
    const got = resolveRolesAnywhereEndpoint({ ...BASE, ...options });
    assert.deepEqual({ scheme: got.scheme, host: got.host, region: got.region, fips: got.fips }, want);
  });
}

// ---------------------------------------------------------------------------------------------
// CreateSession over real loopback HTTP, verified by the fake

const ROOT = file("/pki/root-ca.cert.pem").toString("utf8");
const INTERMEDIATE = file("/pki/intermediate-ca.cert.pem").toString("utf8");

async function withFake<T>(opts: Partial<FakeRolesAnywhereOptions>, fn: (fake: Awaited<ReturnType<typeof startFakeRolesAnywhere>>) => Promise<T>): Promise<T> {
  const fake = await startFakeRolesAnywhere({ trustAnchors: [ROOT, INTERMEDIATE], region: "us-east-1", now: () => NOW, ...opts });
  try {
    return await fn(fake);
  } finally {
    await fake.close();
  }
}

const roundTrips: Array<{ name: string; options: Partial<RolesAnywhereOptions>; anchors: string[]; chainHeader: boolean; body: string }> = [
  { name: "an RSA certificate", options: {}, anchors: [ROOT, INTERMEDIATE], chainHeader: false, body: '{"durationSeconds":3600}' },
  {
    name: "an EC certificate",
    options: { certificatePath: "/pki/leaf-ec-p256.cert.pem", privateKeyPath: "/pki/leaf-ec-p256.sec1.pem" },
    anchors: [ROOT, INTERMEDIATE],
    chainHeader: false,
    body: '{"durationSeconds":3600}',
  },
  {
    name: "an RSA certificate with an intermediate chain, a session name and 900 seconds, trusting only the root",
    options: { intermediatesPath: "/pki/intermediates.pem", roleSessionName: "node-rsa-01", durationSeconds: 900 },
    anchors: [ROOT],
    chainHeader: true,
    body: '{"durationSeconds":900,"roleSessionName":"node-rsa-01"}',
  },
  {
    name: "an EC P-384 certificate and the intermediate as chain, trusting only the root",
    options: { certificatePath: "/extra/leaf-ec-p384.cert.pem", privateKeyPath: "/extra/leaf-ec-p384.key.pem", intermediatesPath: "/pki/intermediates.pem" },
    anchors: [ROOT],
    chainHeader: true,
    body: '{"durationSeconds":3600}',
  },
];
for (const c of roundTrips) {
  test(`createSession gets the fake's credentials over real HTTP with ${c.name}`, async () => {
    await withFake({ trustAnchors: c.anchors }, async (fake) => {
      const lines: string[] = [];
      const logger = createLogger({ level: "debug", format: "text", write: (l) => lines.push(l), now: () => NOW });
      const creds = await createSession({ ...BASE, ...c.options, endpointUrl: fake.url }, { now: () => NOW, readFile, logger });
      assert.equal(fake.calls.length, 1);
      const call = fake.calls[0]!;
      assert.equal(call.status, 201, `${call.errorType}: ${call.rejection}`);
      assert.equal(fake.issued.length, 1);
      const issued = fake.issued[0]!;
      assert.deepEqual(creds, {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        sessionToken: issued.sessionToken,
        expiration: new Date(issued.expiration),
      });
      assert.equal(call.body, c.body);
      assert.deepEqual(call.params && [call.params.trustAnchorArn, call.params.profileArn, call.params.roleArn], [TA, PROFILE, ROLE]);
      assert.match(call.query, /^profileArn=arn%3Aaws%3A.*&roleArn=.*&trustAnchorArn=/, "shape A: ARNs in the query");
      assert.equal("x-amz-x509-chain" in call.headers, c.chainHeader);
      assert.equal(call.headers["content-type"], "application/json");
      logger.info(`leak ${creds.secretAccessKey} ${creds.sessionToken}`);
      assert.ok(!lines.join("").includes(creds.secretAccessKey) && !lines.join("").includes(creds.sessionToken), "secrets registered with the logger");
    });
  });
}

test("createSession sends through the injected agent", async () => {
  await withFake({}, async (fake) => {
    let connections = 0;
    const agent = new (class extends http.Agent {
      override createConnection(...args: Parameters<http.Agent["createConnection"]>) {
        connections++;
        return super.createConnection(...args);
      }
    })();
    await createSession({ ...BASE, endpointUrl: fake.url }, { now: () => NOW, readFile, agent });
    agent.destroy();
    assert.equal(connections, 1);
    assert.equal(fake.calls[0]!.status, 201);
  });
});

test("createSession turns the service's refusal of a chainless request into a one-line CredentialsError naming type and message", async () => {
  await withFake({ trustAnchors: [ROOT] }, async (fake) => {
    await assert.rejects(createSession({ ...BASE, endpointUrl: fake.url }, { now: () => NOW, readFile }), (err: unknown) => {
      assert.ok(err instanceof CredentialsError);
      assert.equal(err.code, "RA_ACCESS_DENIED");
      assert.equal(
        err.message,
        "Roles Anywhere CreateSession denied (AccessDeniedException: Untrusted Signing Certificate); check the trust anchor and certificate chain",
      );
      return true;
    });
  });
});

test("createSession signed with a clock six minutes fast is refused as denied, not retried", async () => {
  await withFake({}, async (fake) => {
    const fast = new Date(NOW.getTime() + 360_000);
    await assert.rejects(
      createSession({ ...BASE, endpointUrl: fake.url }, { now: () => fast, readFile }),
      (e: unknown) => e instanceof CredentialsError && e.code === "RA_ACCESS_DENIED",
    );
    assert.equal(fake.calls[0]!.rejection, "skew");
  });
});

test("createSession reports a refused connection as a retryable UpstreamError RA_NETWORK", async () => {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  await assert.rejects(
    createSession({ ...BASE, endpointUrl: `http://127.0.0.1:${port}` }, { now: () => NOW, readFile }),
    (e: unknown) => e instanceof UpstreamError && e.code === "RA_NETWORK" && e.retryable,
  );
});

// ---------------------------------------------------------------------------------------------
// Error and response mapping through an injected transport

const reply =
  (status: number, body: string, headers: Record<string, string> = {}): RolesAnywhereHttp =>
  async () => ({ status, body, headers });
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN = "FQoGZXIvYXdzEJr//////////wEaDFakeSessionToken";
const okBody = (credentials: Record<string, unknown>) => JSON.stringify({ credentialSet: [{ credentials }] });

const failures: Array<{
  name: string;
  send: RolesAnywhereHttp;
  cls: abstract new (...args: never[]) => PluginError;
  code: string;
  retryable?: boolean;
  includes?: string;
}> = [
  {
    name: "a 429 whose error type header carries a namespace and a URL suffix",
    send: reply(429, '{"message":"Rate exceeded"}', { "x-amzn-errortype": "com.amazonaws#ThrottlingException:http://internal.amazon.com/" }),
    cls: UpstreamError,
    code: "RA_THROTTLED",
    retryable: true,
    includes: "(ThrottlingException: Rate exceeded)",
  },
  {
    name: "a 500 whose type is only in the body's __type with a capitalised Message",
    send: reply(500, '{"__type":"InternalServerException","Message":"boom"}'),
    cls: UpstreamError,
    code: "RA_SERVER_ERROR",
    retryable: true,
    includes: "InternalServerException: boom",
  },
  { name: "a 502 with an HTML body", send: reply(502, "<html>bad gateway</html>"), cls: UpstreamError, code: "RA_SERVER_ERROR", retryable: true },
  {
    name: "a 403 with the type only in the body's code",
    send: reply(403, '{"code":"AccessDeniedException","message":"Invalid signature"}'),
    cls: CredentialsError,
    code: "RA_ACCESS_DENIED",
    includes: "(AccessDeniedException: Invalid signature)",
  },
  {
    name: "a 400 ValidationException",
    send: reply(400, '{"message":"1 validation error detected"}', { "x-amzn-errortype": "ValidationException" }),
    cls: ConfigError,
    code: "RA_REQUEST_INVALID",
  },
  {
    name: "a 404 ResourceNotFoundException",
    send: reply(404, '{"message":"not found"}', { "x-amzn-errortype": "ResourceNotFoundException" }),
    cls: ConfigError,
    code: "RA_NOT_FOUND",
  },
  {
    name: "a 409 of an unknown type",
    send: reply(409, '{"message":"conflict"}', { "x-amzn-errortype": "ConflictException" }),
    cls: CredentialsError,
    code: "RA_REJECTED",
  },
  { name: "a 201 whose body is not JSON", send: reply(201, `not json ${SECRET}`), cls: UpstreamError, code: "RA_BAD_RESPONSE", retryable: false },
  { name: "a 201 with an empty credentialSet", send: reply(201, '{"credentialSet":[]}'), cls: UpstreamError, code: "RA_BAD_RESPONSE", retryable: false },
  {
    name: "a 201 whose expiration is a number",
    send: reply(201, okBody({ accessKeyId: "ASIAX", secretAccessKey: SECRET, sessionToken: TOKEN, expiration: 1750000000 })),
    cls: UpstreamError,
    code: "RA_BAD_RESPONSE",
  },
  {
    name: "a 201 whose expiration is not a timestamp",
    send: reply(201, okBody({ accessKeyId: "ASIAX", secretAccessKey: SECRET, sessionToken: TOKEN, expiration: "tomorrow" })),
    cls: UpstreamError,
    code: "RA_BAD_RESPONSE",
  },
  {
    name: "a 201 without a session token",
    send: reply(201, okBody({ accessKeyId: "ASIAX", secretAccessKey: SECRET, expiration: "2025-06-15T13:34:56Z" })),
    cls: UpstreamError,
    code: "RA_BAD_RESPONSE",
  },
  {
    name: "a transport failure",
    send: async () => {
      throw Object.assign(new Error("connect ECONNRESET"), { code: "ECONNRESET" });
    },
    cls: UpstreamError,
    code: "RA_NETWORK",
    retryable: true,
  },
  {
    name: "a server certificate the node's trust store does not reach",
    send: async () => {
      throw Object.assign(new Error("self-signed certificate in certificate chain"), { code: "SELF_SIGNED_CERT_IN_CHAIN" });
    },
    cls: UpstreamError,
    code: "tls_untrusted",
    retryable: false,
    includes: "update-ca-certificates",
  },
  {
    name: "an attempt that outlives its timeout",
    send: (req) => new Promise((_, reject) => req.signal.addEventListener("abort", () => reject(req.signal.reason), { once: true })),
    cls: UpstreamError,
    code: "RA_TIMEOUT",
    retryable: true,
  },
];
for (const f of failures) {
  test(`createSession maps ${f.name} to ${f.cls.name} ${f.code}`, async () => {
    await assert.rejects(createSession({ ...BASE, attemptTimeoutMs: 50 }, { now: () => NOW, readFile, send: f.send }), (err: unknown) => {
      assert.ok(err instanceof f.cls, `${f.cls.name}, got ${String(err)}`);
      assert.equal((err as PluginError).code, f.code);
      if (f.retryable !== undefined) assert.equal((err as UpstreamError).retryable, f.retryable);
      if (f.includes) assert.ok((err as Error).message.includes(f.includes), (err as Error).message);
      assert.ok(!(err as Error).message.includes(SECRET) && !(err as Error).message.includes(TOKEN), "no secret in the message");
      assertSafeMessage(err);
      return true;
    });
  });
}

test("createSession sends this product's User-Agent (unsigned, as the SDKs do) and logs the attempt with endpoint, status and duration", async () => {
  await withFake({}, async (fake) => {
    const lines: string[] = [];
    const logger = createLogger({ level: "debug", format: "text", write: (l) => lines.push(l), now: () => NOW });
    await createSession({ ...BASE, endpointUrl: fake.url, userAgent: "ecr-credential-provider/9.9.9" }, { now: () => NOW, readFile, logger });
    const call = fake.calls[0]!;
    assert.equal(call.status, 201, `${call.errorType}: ${call.rejection}`);
    assert.equal(call.headers["user-agent"], "ecr-credential-provider/9.9.9");
    assert.ok(
      lines.some((l) =>
        /debug: AWS attempt call="Roles Anywhere CreateSession in us-east-1 \(http:\/\/127\.0\.0\.1:\d+\)" attempt=1 status=201 ms=\d+/.test(l),
      ),
      lines.join(""),
    );
  });
});

test("createSession accepts fractional seconds in expiration and ignores unknown fields", async () => {
  const body = JSON.stringify({
    credentialSet: [{ credentials: { accessKeyId: "ASIAX", secretAccessKey: SECRET, sessionToken: TOKEN, expiration: "2025-06-15T13:34:56.5Z" }, extra: 1 }],
    more: true,
  });
  const creds = await createSession(BASE, { now: () => NOW, readFile, send: reply(201, body) });
  assert.equal(creds.expiration.toISOString(), "2025-06-15T13:34:56.500Z");
});

test("createSession does not send when the caller's signal has already aborted", async () => {
  let sent = 0;
  const send: RolesAnywhereHttp = async () => {
    sent++;
    return { status: 201, body: "{}", headers: {} };
  };
  await assert.rejects(
    createSession(BASE, { now: () => NOW, readFile, send, signal: AbortSignal.abort() }),
    (e: unknown) => e instanceof UpstreamError && e.code === "RA_ABORTED" && !e.retryable,
  );
  assert.equal(sent, 0);
});

// ---------------------------------------------------------------------------------------------
// The memoising, retrying provider

/** A clock shared by provider and fake; `sleep` advances it instead of waiting. */
function fakeClock(start = NOW) {
  let t = start.getTime();
  const slept: number[] = [];
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms;
    },
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}

test("the provider makes one CreateSession for two calls and returns the same credentials", async () => {
  const clock = fakeClock();
  await withFake({ now: clock.now }, async (fake) => {
    const provider = fromRolesAnywhere({ ...BASE, endpointUrl: fake.url }, { now: clock.now, readFile, sleep: clock.sleep });
    const a = await provider();
    clock.advance(30 * 60 * 1000);
    const b = await provider();
    assert.equal(fake.calls.length, 1);
    assert.deepEqual(a, b);
    assert.equal(a.accessKeyId, fake.issued[0]!.accessKeyId);
  });
});

test("the provider shares one CreateSession between concurrent callers", async () => {
  const clock = fakeClock();
  await withFake({ now: clock.now }, async (fake) => {
    const provider = fromRolesAnywhere({ ...BASE, endpointUrl: fake.url }, { now: clock.now, readFile });
    const [a, b, c] = await Promise.all([provider(), provider(), provider()]);
    assert.equal(fake.calls.length, 1);
    assert.deepEqual(a, b);
    assert.deepEqual(b, c);
  });
});

test("the provider starts a new session once less than five minutes remain", async () => {
  const clock = fakeClock();
  await withFake({ now: clock.now }, async (fake) => {
    const provider = fromRolesAnywhere({ ...BASE, endpointUrl: fake.url }, { now: clock.now, readFile });
    const first = await provider();
    clock.advance(first.expiration.getTime() - clock.now().getTime() - 5 * 60 * 1000 - 1000); // 5 min + 1 s left
    assert.deepEqual(await provider(), first);
    clock.advance(2000); // 4 min 59 s left
    const second = await provider();
    assert.equal(fake.calls.length, 2);
    assert.notEqual(second.accessKeyId, first.accessKeyId);
    assert.equal(second.accessKeyId, fake.issued[1]!.accessKeyId);
  });
});

test("the provider retries a 503 with jittered backoff and re-signs each attempt", async () => {
  const clock = fakeClock();
  const failTwice = (i: number) => {
    clock.advance(1000); // each attempt lands in a later second, so its X-Amz-Date differs
    return i < 2 ? { status: 503, type: "ServiceUnavailableException", message: "busy" } : undefined;
  };
  await withFake({ now: clock.now, failWith: failTwice }, async (fake) => {
    const provider = fromRolesAnywhere({ ...BASE, endpointUrl: fake.url }, { now: clock.now, readFile, sleep: clock.sleep, random: () => 0.5 });
    const creds = await provider();
    assert.equal(fake.calls.length, 3);
    assert.deepEqual(clock.slept, [100, 200]);
    assert.equal(creds.accessKeyId, fake.issued[0]!.accessKeyId);
    assert.equal(new Set(fake.calls.map((c) => c.headers["x-amz-date"])).size, 3, "a fresh date per attempt");
    assert.equal(new Set(fake.calls.map((c) => c.headers["authorization"])).size, 3, "a fresh signature per attempt");
  });
});

test("the provider gives up after three attempts of a retryable failure", async () => {
  const clock = fakeClock();
  await withFake({ now: clock.now, failWith: { status: 429, type: "ThrottlingException", message: "slow down" } }, async (fake) => {
    const provider = fromRolesAnywhere({ ...BASE, endpointUrl: fake.url }, { now: clock.now, readFile, sleep: clock.sleep });
    await assert.rejects(provider(), (e: unknown) => e instanceof UpstreamError && e.code === "RA_THROTTLED");
    assert.equal(fake.calls.length, 3);
  });
});

test("the provider never retries an access denial", async () => {
  const clock = fakeClock();
  await withFake({ now: clock.now, trustAnchors: [ROOT] }, async (fake) => {
    const provider = fromRolesAnywhere({ ...BASE, endpointUrl: fake.url }, { now: clock.now, readFile, sleep: clock.sleep });
    await assert.rejects(provider(), (e: unknown) => e instanceof CredentialsError);
    assert.equal(fake.calls.length, 1);
    assert.deepEqual(clock.slept, []);
  });
});

test("the provider stops retrying when the caller's signal aborts during backoff", async () => {
  const controller = new AbortController();
  let sent = 0;
  const send: RolesAnywhereHttp = async (_req: RolesAnywhereHttpRequest) => {
    sent++;
    return { status: 500, body: "{}", headers: {} };
  };
  const deps: RolesAnywhereDeps = {
    now: () => NOW,
    readFile,
    send,
    signal: controller.signal,
    sleep: async () => controller.abort(new Error("deadline")),
  };
  await assert.rejects(fromRolesAnywhere(BASE, deps)(), (e: unknown) => e instanceof UpstreamError);
  assert.equal(sent, 1);
});

test("the provider surfaces configuration errors without calling the network", async () => {
  const send = neverSend();
  await assert.rejects(
    fromRolesAnywhere({ ...BASE, durationSeconds: 60 }, { now: () => NOW, readFile, send })(),
    (e: unknown) => e instanceof ConfigError && e.code === "RA_DURATION_INVALID",
  );
  assert.equal(send.calls, 0);
});

// ---------------------------------------------------------------------------------------------
// Cache identity

const readFileSync2 = (p: string): Buffer => {
  const data = FILES.get(p);
  if (!data) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
  return data;
};

test("the identity names the three ARNs and the leaf's SHA-256 fingerprint", () => {
  const id = rolesAnywhereIdentity(BASE, { readFileSync: readFileSync2 });
  const fp = new X509Certificate(file("/pki/leaf-rsa.cert.pem")).fingerprint256.replace(/:/g, "").toLowerCase();
  assert.equal(id, `rolesanywhere|${TA}|${PROFILE}|${ROLE}|sha256:${fp}`);
  assert.equal(
    fp,
    createHash("sha256")
      .update(new X509Certificate(file("/pki/leaf-rsa.cert.pem")).raw)
      .digest("hex"),
  );
});

test("the identity is the same for a leaf-only file and a fullchain file of the same leaf", () => {
  assert.equal(
    rolesAnywhereIdentity(BASE, { readFileSync: readFileSync2 }),
    rolesAnywhereIdentity({ ...BASE, certificatePath: "/pki/leaf-rsa.fullchain.pem" }, { readFileSync: readFileSync2 }),
  );
});

test("the identity differs for another certificate or another role", () => {
  const base = rolesAnywhereIdentity(BASE, { readFileSync: readFileSync2 });
  assert.notEqual(rolesAnywhereIdentity({ ...BASE, certificatePath: "/pki/leaf-ec-p256.cert.pem" }, { readFileSync: readFileSync2 }), base);
  assert.notEqual(rolesAnywhereIdentity({ ...BASE, roleArn: "arn:aws:iam::123456789012:role/other" }, { readFileSync: readFileSync2 }), base);
});

test("the identity of an unreadable certificate is a ConfigError RA_FILE_UNREADABLE", () => {
  assert.throws(
    () => rolesAnywhereIdentity({ ...BASE, certificatePath: "/missing.pem" }, { readFileSync: readFileSync2 }),
    (e: unknown) => e instanceof ConfigError && e.code === "RA_FILE_UNREADABLE",
  );
});

test("the identity reads the real file system by default", () => {
  const id = rolesAnywhereIdentity({ ...BASE, certificatePath: join(FIX, "pki/leaf-rsa.cert.pem") });
  assert.equal(id, rolesAnywhereIdentity(BASE, { readFileSync: readFileSync2 }));
});

test("an SDK v3 ECR client accepts the provider and resolves the fake's credentials through it", async () => {
  const { ECRClient } = await import("@aws-sdk/client-ecr");
  const clock = fakeClock();
  await withFake({ now: clock.now }, async (fake) => {
    const client = new ECRClient({ region: "us-east-1", credentials: fromRolesAnywhere({ ...BASE, endpointUrl: fake.url }, { now: clock.now, readFile }) });
    const creds = await client.config.credentials();
    client.destroy();
    assert.equal(creds.accessKeyId, fake.issued[0]!.accessKeyId);
    assert.equal(creds.sessionToken, fake.issued[0]!.sessionToken);
  });
});

test("createSession speaks TLS 1.2+ through an injected https agent and signs the host with its port", async () => {
  await withFake({}, async (fake) => {
    // A TLS-terminating relay in front of the fake: it keeps the Host header, so the fake verifies the signature.
    let protocol = "";
    const relay = https.createServer({ cert: file("/extra/server-localhost.cert.pem"), key: file("/extra/server-localhost.key.pem") }, (req, res) => {
      protocol = (req.socket as import("node:tls").TLSSocket).getProtocol() ?? "";
      const upstream = http.request(`${fake.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
    const port = (relay.address() as AddressInfo).port;
    const agent = new https.Agent({ ca: ROOT });
    try {
      const creds = await createSession({ ...BASE, endpointUrl: `https://127.0.0.1:${port}` }, { now: () => NOW, readFile, agent });
      assert.equal(creds.accessKeyId, fake.issued[0]!.accessKeyId);
      assert.equal(fake.calls[0]!.headers.host, `127.0.0.1:${port}`);
      assert.match(protocol, /^TLSv1\.[23]$/);
    } finally {
      agent.destroy();
      relay.closeAllConnections();
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });
});
