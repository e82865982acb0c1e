// The China on-premises scenario end to end: the built executable, certificate flags, a fake Roles Anywhere and a fake ECR.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAws, fakeAwsEnv, type FakeAws } from "../helpers/fake-aws.ts";
import { startFakeRolesAnywhere } from "../helpers/fake-rolesanywhere.ts";
import { runBinary, request, type RunResult } from "../helpers/run-binary.ts";
import { kubeletAccepts } from "../helpers/kubelet-accept.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const PKI = fileURLToPath(new URL("../fixtures/rolesanywhere/pki/", import.meta.url));
const pem = (f: string) => readFileSync(join(PKI, f), "utf8");
const REGION = "cn-northwest-1";
const TRUST_ANCHOR = `arn:aws-cn:rolesanywhere:${REGION}:123456789012:trust-anchor/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`;
const PROFILE = `arn:aws-cn:rolesanywhere:${REGION}:123456789012:profile/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809`;
const ROLE = "arn:aws-cn:iam::123456789012:role/test";
const IMAGE = `123456789012.dkr.ecr.${REGION}.amazonaws.com.cn/test`;

type RaFake = Awaited<ReturnType<typeof startFakeRolesAnywhere>>;
let ecr: FakeAws;
let ra: RaFake;
let raWithChainOnly: RaFake;
let dir: string;

before(async () => {
  ra = await startFakeRolesAnywhere({ trustAnchors: [pem("root-ca.cert.pem"), pem("intermediate-ca.cert.pem")], region: REGION, now: () => new Date() });
  raWithChainOnly = await startFakeRolesAnywhere({ trustAnchors: [pem("root-ca.cert.pem")], region: REGION, now: () => new Date() });
  const lookup = (akid: string) => [...ra.issued, ...raWithChainOnly.issued].find((c) => c.accessKeyId === akid);
  ecr = await startFakeAws({ lookupCredentials: lookup });
  dir = tempDir("ra-e2e-");
  for (const f of [
    "leaf-rsa.cert.pem",
    "leaf-rsa.key.pem",
    "leaf-rsa.pkcs8-encrypted.pem",
    "leaf-ec-p256.cert.pem",
    "leaf-ec-p256.sec1.pem",
    "intermediates.pem",
  ]) {
    copyFileSync(join(PKI, f), join(dir, f));
    chmodSync(join(dir, f), 0o600);
  }
  writeFileSync(join(dir, "passphrase"), "password\n", { mode: 0o600 });
});
after(async () => {
  await ecr.close();
  await ra.close();
  await raWithChainOnly.close();
});

/** Env as a node would have it: no AWS keys at all, only the endpoint redirections. */
function env(raUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  const e = fakeAwsEnv(ecr, { AWS_ENDPOINT_URL_ROLESANYWHERE: raUrl, ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", AWS_EC2_METADATA_DISABLED: "true", ...extra });
  delete e.AWS_ACCESS_KEY_ID;
  delete e.AWS_SECRET_ACCESS_KEY;
  return e;
}

function flags(cert: string, key: string, extra: string[] = []): string[] {
  return [
    `--roles-anywhere-certificate=${join(dir, cert)}`,
    `--roles-anywhere-private-key=${join(dir, key)}`,
    `--roles-anywhere-trust-anchor-arn=${TRUST_ANCHOR}`,
    `--roles-anywhere-profile-arn=${PROFILE}`,
    `--roles-anywhere-role-arn=${ROLE}`,
    ...extra,
  ];
}

/** The ECR call was signed with exactly the session the fake Roles Anywhere issued, for cn-northwest-1. */
function assertSignedWithSession(r: RunResult, fake: RaFake, ecrBefore: number) {
  const v = kubeletAccepts({ stdout: r.stdout, exitCode: r.code ?? -1, configuredApiVersion: "credentialprovider.kubelet.k8s.io/v1" });
  assert.ok(v.accepted, `stderr: ${r.stderr}`);
  assert.ok(v.response.auth[IMAGE.split("/")[0]!]);
  const calls = ecr.ecrCalls().slice(ecrBefore);
  assert.equal(calls.length, 1);
  const session = fake.issued[fake.issued.length - 1]!;
  assert.equal(calls[0]!.accessKeyId, session.accessKeyId);
  assert.equal(calls[0]!.sessionToken, session.sessionToken);
  assert.equal(calls[0]!.region, REGION);
  assert.equal(calls[0]!.status, 200, calls[0]!.rejected);
  for (const c of fake.issued) assert.ok(!r.stderr.includes(c.secretAccessKey) && !r.stderr.includes(c.sessionToken));
}

describe("IAM Roles Anywhere in cn-northwest-1", () => {
  test("an RSA certificate and key answer a v1 request with a token signed by the Roles Anywhere session", async () => {
    const before = ecr.ecrCalls().length;
    const raBefore = ra.calls.length;
    const r = await runBinary({ args: flags("leaf-rsa.cert.pem", "leaf-rsa.key.pem"), env: env(ra.url), stdin: request(IMAGE) });
    assertSignedWithSession(r, ra, before);
    const call = ra.calls[raBefore]!;
    assert.equal(call.status, 201);
    assert.equal(call.params?.trustAnchorArn, TRUST_ANCHOR);
    assert.equal(call.params?.roleArn, ROLE);
    assert.match(call.headers.authorization!, /^AWS4-X509-RSA-SHA256 Credential=\d+\/\d{8}\/cn-northwest-1\/rolesanywhere\/aws4_request/);
  });

  test("an EC P-256 key in SEC1 form works the same way", async () => {
    const before = ecr.ecrCalls().length;
    const r = await runBinary({ args: flags("leaf-ec-p256.cert.pem", "leaf-ec-p256.sec1.pem"), env: env(ra.url), stdin: request(IMAGE) });
    assertSignedWithSession(r, ra, before);
    assert.match(ra.calls[ra.calls.length - 1]!.headers.authorization!, /^AWS4-X509-ECDSA-SHA256 /);
  });

  test("with an intermediates bundle, a service that trusts only the root accepts the chain", async () => {
    const before = ecr.ecrCalls().length;
    const r = await runBinary({
      args: flags("leaf-rsa.cert.pem", "leaf-rsa.key.pem", [`--roles-anywhere-intermediates=${join(dir, "intermediates.pem")}`]),
      env: env(raWithChainOnly.url),
      stdin: request(IMAGE),
    });
    assertSignedWithSession(r, raWithChainOnly, before);
    assert.ok(raWithChainOnly.calls[raWithChainOnly.calls.length - 1]!.headers["x-amz-x509-chain"]);
  });

  test("without the intermediates, the same service refuses the certificate: exit 4 with its message on one line", async () => {
    const r = await runBinary({ args: flags("leaf-rsa.cert.pem", "leaf-rsa.key.pem"), env: env(raWithChainOnly.url), stdin: request(IMAGE) });
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trimEnd().split("\n").length, 1);
    assert.match(r.stderr, /AccessDeniedException/);
    assert.match(r.stderr, /Untrusted Signing Certificate/);
  });

  test("an encrypted PKCS#8 key opens with a passphrase file, and with the passphrase variable", async () => {
    for (const [extraArgs, extraEnv] of [
      [[`--roles-anywhere-private-key-passphrase-file=${join(dir, "passphrase")}`], {}],
      [[], { ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_PRIVATE_KEY_PASSPHRASE: "password" }],
    ] as const) {
      const before = ecr.ecrCalls().length;
      const r = await runBinary({
        args: flags("leaf-rsa.cert.pem", "leaf-rsa.pkcs8-encrypted.pem", [...extraArgs]),
        env: env(ra.url, extraEnv),
        stdin: request(IMAGE),
      });
      assertSignedWithSession(r, ra, before);
      assert.ok(!r.stderr.includes("password"));
    }
  });

  test("flags given as environment variables work too (the kubelet config's env), and the run loads no fs/promises or Web Crypto", async () => {
    const before = ecr.ecrCalls().length;
    const r = await runBinary({
      env: env(ra.url, {
        ECR_CREDENTIAL_PROVIDER_LOG_LEVEL: "debug",
        ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_CERTIFICATE: join(dir, "leaf-rsa.cert.pem"),
        ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_PRIVATE_KEY: join(dir, "leaf-rsa.key.pem"),
        ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_TRUST_ANCHOR_ARN: TRUST_ANCHOR,
        ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_PROFILE_ARN: PROFILE,
        ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_ROLE_ARN: ROLE,
      }),
      stdin: request(IMAGE),
    });
    assertSignedWithSession(r, ra, before);
    // The certificate and key are read with node:fs (src/aws/shims/fs-promises.ts), the SDK's UUIDs come from node:crypto.
    const builtins = / debug: modules .*\bbuiltins=(\S*)/.exec(r.stderr)?.[1]?.split(",");
    assert.ok(builtins, r.stderr);
    for (const b of ["fs/promises", "webcrypto"]) assert.ok(!builtins.includes(b), `loaded ${b}: ${builtins.join(",")}`);
  });

  const configErrors: [string, () => string[], RegExp][] = [
    ["a missing key file", () => flags("leaf-rsa.cert.pem", "nope.pem"), /nope\.pem/],
    ["a key that does not match the certificate", () => flags("leaf-rsa.cert.pem", "leaf-ec-p256.sec1.pem"), /match/i],
    [
      "a malformed trust anchor ARN",
      () => [...flags("leaf-rsa.cert.pem", "leaf-rsa.key.pem"), "--roles-anywhere-trust-anchor-arn=arn:aws-cn:rolesanywhere:cn-northwest-1:123:bad"],
      /trust.anchor/i,
    ],
    ["a session duration of 60 s", () => flags("leaf-rsa.cert.pem", "leaf-rsa.key.pem", ["--roles-anywhere-session-duration=60"]), /900/],
    ["an incomplete configuration", () => [`--roles-anywhere-certificate=${join(dir, "leaf-rsa.cert.pem")}`], /missing --roles-anywhere-trust-anchor-arn/],
  ];
  for (const [what, args, message] of configErrors) {
    test(`${what} is a configuration error (exit 3) before any network call`, async () => {
      const raBefore = ra.calls.length;
      const ecrBefore = ecr.calls.length;
      const r = await runBinary({ args: args(), env: env(ra.url), stdin: request(IMAGE) });
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.ok(!r.stderr.includes("PRIVATE KEY"), "never key material");
      assert.equal(ra.calls.length, raBefore);
      assert.equal(ecr.calls.length, ecrBefore);
    });
  }

  test("with the token cache, a second run needs neither Roles Anywhere nor ECR", async () => {
    const cacheDir = tempDir("ra-cache-");
    const e = env(ra.url, { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "0", ECR_CREDENTIAL_PROVIDER_CACHE_DIR: cacheDir });
    const raBefore = ra.calls.length;
    const ecrBefore = ecr.ecrCalls().length;
    for (let i = 0; i < 2; i++) {
      const r = await runBinary({ args: flags("leaf-rsa.cert.pem", "leaf-rsa.key.pem"), env: e, stdin: request(IMAGE) });
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(ra.calls.length - raBefore, 1);
    assert.equal(ecr.ecrCalls().length - ecrBefore, 1);
  });

  test("a service-account role in the request takes precedence over Roles Anywhere", async () => {
    const raBefore = ra.calls.length;
    const before = ecr.calls.length;
    const r = await runBinary({
      args: flags("leaf-rsa.cert.pem", "leaf-rsa.key.pem"),
      env: env(ra.url),
      stdin: request(IMAGE, "credentialprovider.kubelet.k8s.io/v1", {
        serviceAccountToken: "a.b.c",
        serviceAccountAnnotations: { "eks.amazonaws.com/ecr-role-arn": "arn:aws-cn:iam::123456789012:role/sa" },
      }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ra.calls.length, raBefore);
    assert.ok(ecr.calls.slice(before).some((c) => c.service === "sts" && c.roleArn === "arn:aws-cn:iam::123456789012:role/sa"));
  });
});
