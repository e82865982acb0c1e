// `doctor` in the built executable: a healthy node passes every check, including a real probe of the fake ECR; a broken one fails.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { startFakeAws, fakeAwsEnv, TEST_CREDENTIALS, type FakeAws } from "../helpers/fake-aws.ts";
import { BINARY, runBinary } from "../helpers/run-binary.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const SHIPPED = fileURLToPath(new URL("../../node-config/credential-provider-config.yaml", import.meta.url));
const IMAGE = "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/test";

let fake: FakeAws;
let dir: string;
let binDir: string;
before(async () => {
  fake = await startFakeAws();
  dir = tempDir("doctor-e2e-");
  binDir = join(dir, "bin");
  mkdirSync(binDir);
  copyFileSync(BINARY, join(binDir, "ecr-credential-provider"));
});
after(async () => {
  await fake.close();
});

/** The shipped config, with only its `env` pointed at the fake AWS and a private cache dir. */
function config(extraArgs: string[] = []): string {
  const doc = parse(readFileSync(SHIPPED, "utf8"));
  const env = fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: join(dir, "cache") });
  delete env.PATH;
  doc.providers[0].env = Object.entries(env).map(([name, value]) => ({ name, value }));
  doc.providers[0].args = extraArgs;
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

/** doctor runs with almost nothing in its own environment: the provider's env must be what the probe uses. */
const bareEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

describe("doctor", () => {
  test("a healthy setup passes: config, binary, matchImages, credentials, ECR and clock checks are ok", async () => {
    const r = await runBinary({ args: ["doctor", "--config", config(), "--bin-dir", binDir, "--kubelet-flags", "none", "--image", IMAGE], env: bareEnv });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const check of ["config", "provider-binary", "match-images", "aws-credentials", "ecr", "clock-skew"]) {
      assert.match(r.stdout, new RegExp(`^ok\\s+${check}`, "m"), `${check} not ok:\n${r.stdout}`);
    }
    assert.ok(!r.stdout.includes(TEST_CREDENTIALS.secretAccessKey));
    for (const pw of fake.issuedPasswords) assert.ok(!r.stdout.includes(pw), "doctor never prints the token");
    assert.equal(fake.ecrCalls().at(-1)?.region, "cn-northwest-1");
  });

  test("--json gives one object with every check", async () => {
    const r = await runBinary({
      args: ["doctor", "--config", config(), "--bin-dir", binDir, "--kubelet-flags", "none", "--image", IMAGE, "--json"],
      env: bareEnv,
    });
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, true);
    assert.ok(out.checks.some((c: any) => c.check === "ecr" && c.status === "ok"));
  });

  test("ECR refusing the node's credentials is a failing ecr check and a non-zero exit", async () => {
    fake.setEcrMode({ kind: "error", status: 400, type: "AccessDeniedException", message: "not authorized" });
    try {
      const r = await runBinary({ args: ["doctor", "--config", config(), "--bin-dir", binDir, "--kubelet-flags", "none", "--image", IMAGE], env: bareEnv });
      assert.notEqual(r.code, 0);
      assert.match(r.stdout, /^fail\s+ecr/m);
    } finally {
      fake.setEcrMode({ kind: "ok" });
    }
  });

  test("an image the config's matchImages do not cover fails the match-images check", async () => {
    const r = await runBinary({
      args: ["doctor", "--config", config(), "--bin-dir", binDir, "--kubelet-flags", "none", "--image", "registry.example.com/app", "--offline"],
      env: bareEnv,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /^fail\s+match-images/m);
  });

  test("a registry alias in the provider's args is used by the probe", async () => {
    const r = await runBinary({
      args: [
        "doctor",
        "--config",
        config(["--registry-alias=mirror.internal=123456789012.dkr.ecr.eu-west-1.amazonaws.com"]),
        "--bin-dir",
        binDir,
        "--kubelet-flags",
        "none",
        "--image",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/x",
      ],
      env: bareEnv,
    });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(fake.ecrCalls().at(-1)?.region, "eu-west-1");
  });
});
