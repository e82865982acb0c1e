// `cache list` / `cache clear`: entries written by the real cache, listed without secrets, cleared under their locks.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clearCache, clearFilter, listCache, runCacheCommand } from "../../../src/cache/admin.ts";
import { entryName, openTokenCache } from "../../../src/cache/token-cache.ts";
import { planCredentials } from "../../../src/core/credential-plan.ts";
import { tokenCacheKey } from "../../../src/core/provider.ts";
import { readConfig } from "../../../src/core/config.ts";
import { classifyImage, parseAliases } from "../../../src/core/registry.ts";
import { createLogger } from "../../../src/core/log.ts";
import { tempDir } from "../../helpers/temp-dir.ts";

const T0 = new Date("2026-06-01T00:00:00Z");
const H = 3600_000;
const PASSWORDS = ["pw-cn-secret-0001", "pw-usw2-secret-0002", "pw-public-secret-0003"];

/** A cache with three entries (cn-northwest-1, us-west-2 FIPS, ECR Public) written by the real cache at T0. */
async function filled(): Promise<{ dir: string; keys: string[] }> {
  const dir = join(tempDir("cache-admin-"), "cache");
  const log = createLogger({ level: "silent", format: "text", write: () => undefined, now: () => T0 });
  const cache = (await openTokenCache({ dir, log, now: () => T0, signal: new AbortController().signal, pid: 1, isAlive: () => false, random: () => 0 }))!;
  const config = readConfig([], { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_PROFILE: "ops" });
  const plan = planCredentials(config, {}, () => "");
  const images = [
    "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/app",
    "123456789012.dkr.ecr-fips.us-west-2.amazonaws.com/app",
    "public.ecr.aws/docker/library/nginx",
  ];
  const keys: string[] = [];
  for (const [i, image] of images.entries()) {
    const key = tokenCacheKey(classifyImage(image), plan);
    keys.push(key);
    await cache.get(key, async () => ({
      authorizationToken: Buffer.from(`AWS:${PASSWORDS[i]}`).toString("base64"),
      expiresAt: new Date(T0.getTime() + 12 * H),
      endpoint: "https://api.ecr.example",
    }));
  }
  return { dir, keys };
}

test("list: one entry per token with scope, identity label, times and state; never a password or token", async () => {
  const { dir } = await filled();
  const entries = listCache(dir, new Date(T0.getTime() + H));
  assert.deepEqual(entries.map((e) => e.scope).sort(), ["ECR Public", "ECR private aws-cn/cn-northwest-1", "ECR private aws/us-west-2 (FIPS)"]);
  for (const e of entries) {
    assert.equal(e.state, "fresh");
    assert.equal(e.identity, "AWS SDK default chain: environment variables (AWS_ACCESS_KEY_ID)");
    assert.equal(e.obtainedAt, T0.toISOString());
    assert.equal(e.expiresAt, new Date(T0.getTime() + 12 * H).toISOString());
  }
  let out = "";
  for (const output of ["text", "json"] as const) {
    await runCacheCommand(["list"], { dir, output, aliases: new Map(), now: () => T0, writeStdout: (s) => (out += s), pid: 1, isAlive: () => false });
  }
  for (const pw of PASSWORDS) {
    assert.ok(!out.includes(pw), "a password in cache list");
    assert.ok(!out.includes(Buffer.from(`AWS:${pw}`).toString("base64")), "a token in cache list");
  }
  assert.match(out, /SCOPE +IDENTITY +OBTAINED +EXPIRES +STATE/);
  assert.equal(JSON.parse(out.slice(out.indexOf("{"))).entries.length, 3);
});

test("list: states follow the token's life: fresh, stale-usable past half its life, expired at the end", async () => {
  const { dir } = await filled();
  const at = (h: number) => listCache(dir, new Date(T0.getTime() + h * H)).map((e) => e.state);
  assert.deepEqual(at(5), ["fresh", "fresh", "fresh"]);
  assert.deepEqual(at(7), ["stale-usable", "stale-usable", "stale-usable"]);
  assert.deepEqual(at(12), ["expired", "expired", "expired"]);
});

test("list: a missing directory is an empty cache; an unreadable file is listed as such", async () => {
  assert.deepEqual(listCache("/nonexistent/ecr-cache", T0), []);
  const { dir } = await filled();
  writeFileSync(join(dir, "0".repeat(40) + ".json"), "{torn");
  assert.equal(listCache(dir, T0).filter((e) => e.state === "unreadable").length, 1);
});

test("clear by region, by registry (aliases applied) and all", async () => {
  const { dir } = await filled();
  const opts = { now: () => T0, all: false, pid: 1, isAlive: () => false };
  const r1 = await clearCache(dir, clearFilter("cn-northwest-1", new Map()), opts);
  assert.deepEqual(
    r1.removed.map((e) => e.region),
    ["cn-northwest-1"],
  );
  const aliases = parseAliases(["mirror.internal:5000=public.ecr.aws"]);
  const r2 = await clearCache(dir, clearFilter("mirror.internal:5000", aliases), opts);
  assert.deepEqual(
    r2.removed.map((e) => e.scope),
    ["ECR Public"],
  );
  const r3 = await clearCache(dir, clearFilter("123456789012.dkr.ecr.us-west-2.amazonaws.com", new Map()), opts);
  assert.deepEqual(r3.removed, [], "the FIPS entry is not the standard endpoint's");
  const r4 = await clearCache(dir, clearFilter(undefined, new Map()), { now: () => T0, all: true, pid: 1, isAlive: () => false });
  assert.equal(r4.removed.length, 1);
  assert.deepEqual(readdirSync(dir), []);
});

test("clear respects the lock: a live holder keeps its entry (busy), a dead holder's lock is broken", { timeout: 10_000 }, async () => {
  const { dir, keys } = await filled();
  const lock = join(dir, entryName(keys[0]!) + ".lock");
  writeFileSync(lock, JSON.stringify({ pid: 4242, at: Date.now() }));
  // The wait runs on an injected clock: each poll's pause advances it, nothing really sleeps.
  let virtual = Date.now();
  const pauses: number[] = [];
  const clock = { now: () => new Date(virtual), sleep: async (ms: number) => void (pauses.push(ms), (virtual += ms)) };
  const live = await clearCache(dir, () => true, { ...clock, all: true, lockWaitMs: 300, pid: 1, isAlive: () => true });
  assert.equal(live.busy.length, 1);
  assert.deepEqual(pauses, [100, 100, 100, 100], "polls every 100 ms until the wait has passed on the injected clock");
  assert.equal(live.removed.length, 2);
  assert.ok(existsSync(join(dir, entryName(keys[0]!) + ".json")), "a locked entry is left alone");
  assert.ok(existsSync(lock), "another run's lock is left alone");
  const dead = await clearCache(dir, () => true, { ...clock, all: true, lockWaitMs: 300, pid: 1, isAlive: () => false });
  assert.equal(dead.removed.length, 1);
  assert.deepEqual(readdirSync(dir), []);
});

test("clear refuses an empty registry and anything that is not ECR", () => {
  assert.throws(() => clearFilter("", new Map()), /empty/);
  assert.throws(() => clearFilter("registry.example.com", new Map()), /not an Amazon ECR registry/);
});
