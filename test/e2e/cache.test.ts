// The token cache through the built executable: concurrent misses, killed runs, stale-if-error, a hit that never loads the SDK.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeAws, fakeAwsEnv, type FakeAws } from "../helpers/fake-aws.ts";
import { BINARY, runBinary, runBinaryOnPipe, request } from "../helpers/run-binary.ts";
import { kubeletAccepts } from "../helpers/kubelet-accept.ts";
import { tempDir } from "../helpers/temp-dir.ts";

let fake: FakeAws;
before(async () => {
  fake = await startFakeAws({ latencyMs: 200 });
});
after(async () => {
  await fake.close();
});

const V1 = "credentialprovider.kubelet.k8s.io/v1";
function cacheEnv(extra: Record<string, string> = {}) {
  const dir = join(tempDir("cache-e2e-"), "c");
  return { dir, env: fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: dir, ...extra }) };
}

describe("token cache", () => {
  test("20 concurrent runs for different images in one region make exactly one ECR call and all succeed", async () => {
    const { env, dir } = cacheEnv();
    const before = fake.ecrCalls().length;
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        runBinary({ env, stdin: request(`${String(100000000000 + (i % 5)).padStart(12, "0")}.dkr.ecr.eu-central-1.amazonaws.com/app-${i}`) }),
      ),
    );
    for (const r of runs) assert.ok(kubeletAccepts({ stdout: r.stdout, exitCode: r.code ?? -1, configuredApiVersion: V1 }).accepted, r.stderr);
    assert.equal(fake.ecrCalls().length - before, 1);
    const passwords = new Set(runs.map((r) => Object.values(JSON.parse(r.stdout).auth as Record<string, { password: string }>)[0]!.password));
    assert.equal(passwords.size, 1, "every run answered with the one token");
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const f of readdirSync(dir)) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  });

  test("a cache hit loads neither the AWS SDK nor any network module (stdin a pipe, as the kubelet gives it)", async () => {
    const { env } = cacheEnv({ ECR_CREDENTIAL_PROVIDER_LOG_LEVEL: "debug" });
    const image = "123456789012.dkr.ecr.ap-east-1.amazonaws.com/x";
    const miss = await runBinary({ env, stdin: request(image) });
    assert.match(miss.stderr, /modules awsSdkLoaded=true builtins=\S*https/);
    // On Node's socket pair stdin is read through process.stdin (net, stream): src/cli/stdio.ts.
    const hit = await runBinaryOnPipe({ env, stdin: request(image) });
    assert.equal(hit.code, 0);
    assert.match(hit.stderr, /fromCache=true/);
    assert.match(hit.stderr, /modules awsSdkLoaded=false builtins=(\s|$)/);
  });

  test("two regions are two entries; a third run in either region is a hit", async () => {
    const { env } = cacheEnv();
    const before = fake.ecrCalls().length;
    for (const img of [
      "111111111111.dkr.ecr.us-east-1.amazonaws.com/a",
      "111111111111.dkr.ecr.us-west-2.amazonaws.com/a",
      "222222222222.dkr.ecr.us-west-2.amazonaws.com/b",
    ]) {
      const r = await runBinary({ env, stdin: request(img) });
      assert.equal(r.code, 0, r.stderr);
    }
    assert.deepEqual(
      fake
        .ecrCalls()
        .slice(before)
        .map((c) => c.region),
      ["us-east-1", "us-west-2"],
    );
  });

  test("a run SIGKILLed while holding the lock does not block the next one, and a torn entry is ignored", async () => {
    const { env, dir } = cacheEnv();
    const image = "123456789012.dkr.ecr.sa-east-1.amazonaws.com/x";
    fake.setEcrMode({ kind: "slow", ms: 5000 }, 1);
    const callsBefore = fake.ecrCalls().length;
    const victim = spawn(BINARY, [], { env, stdio: ["pipe", "ignore", "ignore"] });
    victim.stdin.end(request(image));
    // Wait until it holds the lock (it is then waiting on the slow ECR).
    const locked = () => {
      try {
        return readdirSync(dir).some((f) => f.endsWith(".lock"));
      } catch {
        return false;
      }
    };
    // Wait until it holds the lock and its (slow) ECR call is in flight.
    for (let i = 0; i < 250 && !(locked() && fake.ecrCalls().length > callsBefore); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(locked(), "the victim took the lock");
    victim.kill("SIGKILL");
    await new Promise((r) => victim.on("close", r));
    // Also leave a torn entry where a crashed writer might have.
    for (const f of readdirSync(dir)) if (f.endsWith(".lock")) writeFileSync(join(dir, f.replace(".lock", ".json")), '{"version":1,"key":');
    const r = await runBinary({ env, stdin: request(image) });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.ms < 4000, `took ${r.ms} ms: the dead holder's lock was not recognised`);
  });

  test("with a cached token, an ECR outage does not fail the run (stale-if-error)", async () => {
    const { env, dir } = cacheEnv();
    const image = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/x";
    assert.equal((await runBinary({ env, stdin: request(image) })).code, 0);
    // Age the entry past its refresh point but not its expiry.
    for (const f of readdirSync(dir)) {
      if (!f.endsWith(".json")) continue;
      const p = join(dir, f);
      const e = JSON.parse((await import("node:fs")).readFileSync(p, "utf8"));
      e.fetchedAt = new Date(Date.now() - 8 * 3600_000).toISOString();
      e.expiresAt = new Date(Date.now() + 4 * 3600_000).toISOString();
      writeFileSync(p, JSON.stringify(e));
    }
    fake.setEcrMode({ kind: "error", status: 500, type: "ServerException" });
    try {
      const r = await runBinary({ env, stdin: request(image) });
      const v = kubeletAccepts({ stdout: r.stdout, exitCode: r.code ?? -1, configuredApiVersion: V1 });
      assert.ok(v.accepted, r.stderr);
      assert.match(r.stderr, /refresh failed, using the cached token/);
      const secs = Number(/^(\d+)h/.exec(v.response.cacheDuration)![1]);
      assert.ok(secs <= 2, `cacheDuration ${v.response.cacheDuration} must not outlive the token`);
    } finally {
      fake.setEcrMode({ kind: "ok" });
    }
  });

  test("an unusable cache directory means one warning and a normal answer", async () => {
    const file = join(tempDir("cache-e2e-"), "file");
    writeFileSync(file, "");
    const r = await runBinary({
      env: fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: file }),
      stdin: request("123456789012.dkr.ecr.eu-west-3.amazonaws.com/x"),
    });
    assert.equal(r.code, 0);
    assert.equal(r.stderr.split("\n").filter((l) => /token cache disabled/.test(l)).length, 1);
  });

  test("--no-cache writes nothing and calls ECR on every run", async () => {
    const { env, dir } = cacheEnv();
    const before = fake.ecrCalls().length;
    for (let i = 0; i < 2; i++)
      assert.equal((await runBinary({ args: ["--no-cache"], env, stdin: request("123456789012.dkr.ecr.eu-west-3.amazonaws.com/x") })).code, 0);
    assert.equal(fake.ecrCalls().length - before, 2);
    assert.throws(() => readdirSync(dir));
  });
});
