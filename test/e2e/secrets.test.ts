// Canary test: planted secrets never reach stderr, logs, error messages, check or doctor output, or cache file names — in success and every failure mode.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAws, fakeAwsEnv, fakeSecrets, type EcrMode, type FakeAws } from "../helpers/fake-aws.ts";
import { startFakeRolesAnywhere } from "../helpers/fake-rolesanywhere.ts";
import { BINARY, runBinary, request, type RunResult } from "../helpers/run-binary.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const CANARY = {
  secretKey: "CANARYsecretKEY0123456789abcdefghijklmnop",
  sessionToken: "CANARYsessionTOKEN/abcdefghijklmnopqrstuvwxyz0123456789+=",
  saToken: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y2FuYXJ5OnB1bGxlciJ9.CANARYsaSIGNATURE",
  passphrase: "CANARYpassphrase-Zq9",
};
const PKI = fileURLToPath(new URL("../fixtures/rolesanywhere/pki/", import.meta.url));
const IMAGE = "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/test";

let fake: FakeAws;
let ra: Awaited<ReturnType<typeof startFakeRolesAnywhere>>;
let dir: string;
const cacheDirs: string[] = [];

before(async () => {
  ra = await startFakeRolesAnywhere({
    trustAnchors: [readPem("root-ca.cert.pem"), readPem("intermediate-ca.cert.pem")],
    region: "cn-northwest-1",
    now: () => new Date(),
  });
  fake = await startFakeAws({ lookupCredentials: (akid) => ra.issued.find((c) => c.accessKeyId === akid) });
  fake.addCredentials({ accessKeyId: "ASIACANARY", secretAccessKey: CANARY.secretKey, sessionToken: CANARY.sessionToken });
  dir = tempDir("canary-");
  for (const f of ["leaf-rsa.cert.pem", "leaf-rsa.pkcs8-encrypted.pem"]) copyFileSync(join(PKI, f), join(dir, f));
  writeFileSync(join(dir, "wrong-passphrase"), CANARY.passphrase);
});
after(async () => {
  await fake.close();
  await ra.close();
});

function readPem(f: string) {
  return readFileSync(join(PKI, f), "utf8");
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  const cache = join(tempDir("canary-cache-"), "c");
  cacheDirs.push(cache);
  return fakeAwsEnv(fake, {
    AWS_ACCESS_KEY_ID: "ASIACANARY",
    AWS_SECRET_ACCESS_KEY: CANARY.secretKey,
    AWS_SESSION_TOKEN: CANARY.sessionToken,
    AWS_ENDPOINT_URL_ROLESANYWHERE: ra.url,
    ECR_CREDENTIAL_PROVIDER_CACHE_DIR: cache,
    // Throttling is retried until the deadline (55 s by default): keep the failing runs short.
    ECR_CREDENTIAL_PROVIDER_TIMEOUT: "3s",
    ECR_CREDENTIAL_PROVIDER_LOG_LEVEL: "debug",
    ...extra,
  });
}

/** Everything secret: the canaries, every password and session the fakes issued. */
function secrets(): string[] {
  return [
    ...Object.values(CANARY),
    ...fakeSecrets(fake),
    ...fake.issuedPasswords.map((p) => Buffer.from(`AWS:${p}`).toString("base64")),
    ...ra.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken]),
  ].filter((s) => s.length >= 6);
}

function assertClean(what: string, text: string) {
  for (const s of secrets()) assert.ok(!text.includes(s), `${what} leaks ${s.slice(0, 12)}…:\n${text}`);
}

const modes: [string, EcrMode][] = [
  ["success", { kind: "ok" }],
  ["AccessDenied", { kind: "error", status: 400, type: "AccessDeniedException", message: `denied for ${CANARY.secretKey}` }],
  ["500", { kind: "error", status: 500, type: "ServerException", message: "boom" }],
  ["throttling", { kind: "error", status: 400, type: "ThrottlingException", message: "Rate exceeded" }],
  ["malformed JSON", { kind: "malformed" }],
  ["bad base64", { kind: "bad-base64" }],
  ["token without colon", { kind: "no-colon" }],
  ["expired token", { kind: "expired" }],
  ["connection reset", { kind: "reset" }],
];

describe("secret canaries", () => {
  for (const [what, mode] of modes) {
    for (const format of ["text", "json"]) {
      test(`${what}, ${format} logs at debug level: no secret on stderr, and stdout holds only the answer`, async () => {
        fake.setEcrMode(mode);
        try {
          const before = fake.issuedPasswords.length;
          const r: RunResult = await runBinary({
            env: env({ ECR_CREDENTIAL_PROVIDER_LOG_FORMAT: format }),
            stdin: request(IMAGE, "credentialprovider.kubelet.k8s.io/v1", { serviceAccountToken: CANARY.saToken }),
          });
          assertClean("stderr", r.stderr);
          if (r.code === 0) {
            // The one place a password may appear is the answer itself.
            const pw = JSON.parse(r.stdout).auth["123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn"].password;
            assert.equal(pw, fake.issuedPasswords[before]);
          } else {
            assert.equal(r.stdout, "");
          }
        } finally {
          fake.setEcrMode({ kind: "ok" });
        }
      });
    }
  }

  test("service-account mode with an STS refusal: the token and every credential stay out of stderr", async () => {
    fake.setStsMode({ kind: "error", status: 403, code: "AccessDenied", message: `token ${CANARY.saToken} refused` });
    try {
      const r = await runBinary({
        env: env({ AWS_ECR_ROLE_ARN: "arn:aws-cn:iam::123456789012:role/r" }),
        stdin: request(IMAGE, "credentialprovider.kubelet.k8s.io/v1", { serviceAccountToken: CANARY.saToken }),
      });
      assert.equal(r.code, 4);
      assertClean("stderr", r.stderr);
    } finally {
      fake.setStsMode({ kind: "ok" });
    }
  });

  test("Roles Anywhere with a wrong passphrase from a file, and success with the right one from the environment", async () => {
    const ta = "arn:aws-cn:rolesanywhere:cn-northwest-1:123456789012:trust-anchor/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    const pr = "arn:aws-cn:rolesanywhere:cn-northwest-1:123456789012:profile/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809";
    const args = [
      `--roles-anywhere-certificate=${join(dir, "leaf-rsa.cert.pem")}`,
      `--roles-anywhere-private-key=${join(dir, "leaf-rsa.pkcs8-encrypted.pem")}`,
      `--roles-anywhere-trust-anchor-arn=${ta}`,
      `--roles-anywhere-profile-arn=${pr}`,
      "--roles-anywhere-role-arn=arn:aws-cn:iam::123456789012:role/test",
    ];
    const e = env();
    delete e.AWS_ACCESS_KEY_ID;
    delete e.AWS_SECRET_ACCESS_KEY;
    delete e.AWS_SESSION_TOKEN;
    const wrong = await runBinary({
      args: [...args, `--roles-anywhere-private-key-passphrase-file=${join(dir, "wrong-passphrase")}`],
      env: e,
      stdin: request(IMAGE),
    });
    assert.equal(wrong.code, 3, wrong.stderr);
    assertClean("stderr", wrong.stderr);
    const right = await runBinary({ args, env: { ...e, ECR_CREDENTIAL_PROVIDER_ROLES_ANYWHERE_PRIVATE_KEY_PASSPHRASE: "password" }, stdin: request(IMAGE) });
    assert.equal(right.code, 0, right.stderr);
    assertClean("stderr", right.stderr);
  });

  test("check and doctor print no secret", async () => {
    const c = await runBinary({ args: ["check", IMAGE], env: env() });
    assert.equal(c.code, 0, c.stderr);
    assertClean("check stdout", c.stdout);
    assertClean("check stderr", c.stderr);
    const binDir = join(dir, "bin");
    mkdirSync(binDir, { recursive: true });
    copyFileSync(BINARY, join(binDir, "ecr-credential-provider"));
    const cfg = join(dir, "config.json");
    const providerEnv = Object.entries(env())
      .filter(([k]) => k !== "PATH")
      .map(([name, value]) => ({ name, value }));
    writeFileSync(
      cfg,
      JSON.stringify({
        apiVersion: "kubelet.config.k8s.io/v1",
        kind: "CredentialProviderConfig",
        providers: [
          {
            name: "ecr-credential-provider",
            matchImages: ["*.dkr.ecr.*.amazonaws.com.cn"],
            defaultCacheDuration: "12h",
            apiVersion: "credentialprovider.kubelet.k8s.io/v1",
            env: providerEnv,
          },
        ],
      }),
    );
    const d = await runBinary({
      args: ["doctor", "--config", cfg, "--bin-dir", binDir, "--kubelet-flags", "none", "--image", IMAGE],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    assertClean("doctor stdout", d.stdout);
    assertClean("doctor stderr", d.stderr);
    assert.match(d.stdout, /^ok\s+ecr/m);
  });

  test("cache file names carry no secret and no identity", () => {
    const names = cacheDirs.flatMap((c) => {
      try {
        return readdirSync(c);
      } catch {
        return [];
      }
    });
    assert.ok(names.length > 0, "some runs wrote the cache");
    for (const n of names) {
      assert.match(n, /^[0-9a-f]{40}\.(json|lock)$/);
      assertClean("cache file name", n);
      assert.ok(!n.includes("ASIACANARY"));
    }
  });
});
