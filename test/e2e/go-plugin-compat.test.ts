// Docs are code: every flag and environment variable of the Go plugin named in README's "Coming from
// the Go plugin" table is accepted by the built executable (help/version print and exit 0; each
// variable, set to a realistic value, still lets a request be answered).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAws, fakeAwsEnv, TEST_CREDENTIALS, type FakeAws } from "../helpers/fake-aws.ts";
import { binaryAvailable, runBinary, request } from "../helpers/run-binary.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The first column of every row of the README's Go-plugin table. */
export function goPluginColumn(readme: string): string[] {
  const start = readme.indexOf("## Coming from the Go plugin");
  assert.ok(start >= 0, "README has a 'Coming from the Go plugin' section");
  const end = readme.indexOf("\n## ", start + 1);
  return readme
    .slice(start, end === -1 ? undefined : end)
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| ---") && !l.startsWith("| Go plugin"))
    .map((l) => l.split(" | ")[0]!.slice(2));
}

/** Backticked flags (`-v`, `--help`) and environment variables (`AWS_REGION`) in a cell. */
function named(cell: string): { flags: string[]; vars: string[] } {
  const ticks = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  return { flags: ticks.filter((t) => /^--?[a-z][a-z-]*$/.test(t)), vars: ticks.filter((t) => /^[A-Z][A-Z0-9_]+$/.test(t)) };
}

const cells = goPluginColumn(README);
const flags = cells.flatMap((c) => named(c).flags);
const vars = cells.flatMap((c) => named(c).vars);
const IMAGE = "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/app";

let fake: FakeAws;
let dir: string;
before(async () => {
  fake = await startFakeAws();
  dir = tempDir("go-compat-");
  writeFileSync(
    join(dir, "credentials"),
    `[compat]\naws_access_key_id = ${TEST_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${TEST_CREDENTIALS.secretAccessKey}\n`,
  );
  writeFileSync(join(dir, "config"), "");
  writeFileSync(join(dir, "web-identity-token"), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJjb21wYXQifQ.");
});
after(async () => {
  await fake?.close();
});

/** A realistic value for each variable the table names, with what it needs beside it. */
function valueFor(name: string): Record<string, string> | undefined {
  const v: Record<string, Record<string, string>> = {
    AWS_ECR_ROLE_ARN: { AWS_ECR_ROLE_ARN: "arn:aws-cn:iam::123456789012:role/ecr-pull" },
    AWS_REGION: { AWS_REGION: "us-east-1" },
    AWS_PROFILE: { AWS_PROFILE: "compat", AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"), AWS_CONFIG_FILE: join(dir, "config") },
    AWS_CONFIG_FILE: { AWS_CONFIG_FILE: join(dir, "config") },
    AWS_SHARED_CREDENTIALS_FILE: { AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials") },
    AWS_ACCESS_KEY_ID: { AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId },
    AWS_ROLE_ARN: { AWS_ROLE_ARN: "arn:aws-cn:iam::123456789012:role/web", AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "web-identity-token") },
    AWS_WEB_IDENTITY_TOKEN_FILE: { AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "web-identity-token") },
    AWS_EC2_METADATA_DISABLED: { AWS_EC2_METADATA_DISABLED: "true" },
    AWS_ENDPOINT_URL_ECR: { AWS_ENDPOINT_URL_ECR: fake.url },
    AWS_ENDPOINT_URL_ECR_PUBLIC: { AWS_ENDPOINT_URL_ECR_PUBLIC: fake.url },
    AWS_ENDPOINT_URL_STS: { AWS_ENDPOINT_URL_STS: fake.url },
    AWS_USE_FIPS_ENDPOINT: { AWS_USE_FIPS_ENDPOINT: "true" },
    AWS_USE_DUALSTACK_ENDPOINT: { AWS_USE_DUALSTACK_ENDPOINT: "true" },
    AWS_MAX_ATTEMPTS: { AWS_MAX_ATTEMPTS: "3" },
    AWS_RETRY_MODE: { AWS_RETRY_MODE: "standard" },
    HTTPS_PROXY: { HTTPS_PROXY: "http://192.0.2.1:3128", NO_PROXY: "127.0.0.1" },
    NO_PROXY: { NO_PROXY: "127.0.0.1,localhost" },
    // The fake here is plain HTTP: accepted and put in place, unused (test/e2e/trust-store.test.ts runs them over HTTPS).
    SSL_CERT_FILE: { SSL_CERT_FILE: fileURLToPath(new URL("../fixtures/rolesanywhere/pki/root-ca.cert.pem", import.meta.url)) },
    SSL_CERT_DIR: { SSL_CERT_DIR: dir },
  };
  return v[name];
}

describe("README: coming from the Go plugin", { skip: !binaryAvailable() && "dist/ecr-credential-provider is not built" }, () => {
  test("the table names the Go plugin's flags and variables", () => {
    for (const f of ["-h", "--help", "-v", "--version"]) assert.ok(flags.includes(f), `table names ${f}`);
    assert.ok(vars.includes("AWS_ECR_ROLE_ARN"));
  });

  for (const flag of flags) {
    test(`the Go plugin's ${flag} is accepted: prints and exits 0`, async () => {
      const r = await runBinary({ args: [flag], env: fakeAwsEnv(fake), holdStdin: true, killAfterMs: 10_000 });
      assert.equal(r.code, 0, `exit code; stderr: ${r.stderr}`);
      if (/^-(h|-help)$/.test(flag)) assert.match(r.stdout, /^Usage:/m);
      else assert.match(r.stdout, /^ecr-credential-provider \S+\n$/);
    });
  }

  for (const name of vars) {
    test(`the Go plugin's ${name} is accepted: a request is still answered`, async () => {
      const extra = valueFor(name);
      assert.ok(extra, `the test has a value for ${name} (add one when the README names a new variable)`);
      const r = await runBinary({ env: fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", ...extra }), stdin: request(IMAGE) });
      assert.equal(r.code, 0, `exit code; stderr: ${r.stderr}`);
      const out = JSON.parse(r.stdout);
      assert.equal(out.auth["123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn"].username, "AWS");
    });
  }
});
