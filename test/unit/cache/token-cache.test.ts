import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOCK_STALE_MS, entryName, isFresh, openTokenCache } from "../../../src/cache/token-cache.ts";
import { planCredentials } from "../../../src/core/credential-plan.ts";
import { tokenCacheKey, type FetchedToken } from "../../../src/core/provider.ts";
import { readConfig } from "../../../src/core/config.ts";
import { classifyImage } from "../../../src/core/registry.ts";
import { createLogger } from "../../../src/core/log.ts";
import { UpstreamError } from "../../../src/core/errors.ts";
import { tempDir } from "../../helpers/temp-dir.ts";

const T0 = new Date("2026-06-01T00:00:00Z");
const H = 3600_000;

/** The pid every cache of a setup writes into its locks; alive unless a test says otherwise. */
const PID = 4242;

function setup(opts: { now?: () => Date; isAlive?: (pid: number) => boolean } = {}) {
  const dir = join(tempDir("tc-"), "cache");
  const lines: string[] = [];
  const log = createLogger({ level: "debug", format: "text", write: (l) => lines.push(l), now: () => T0 });
  let clock = T0;
  const now = opts.now ?? (() => clock);
  const open = () =>
    openTokenCache({
      dir,
      log,
      now,
      signal: new AbortController().signal,
      lockWaitMs: 2000,
      pid: PID,
      isAlive: opts.isAlive ?? ((pid) => pid === PID),
      random: () => 0.5,
    });
  return { dir, lines, open, setClock: (d: Date) => (clock = d) };
}

function token(n: number, lifetimeMs = 12 * H, from = T0): FetchedToken {
  return { authorizationToken: Buffer.from(`AWS:pw${n}`).toString("base64"), expiresAt: new Date(from.getTime() + lifetimeMs), endpoint: "https://api.ecr.x" };
}

const freshness: [string, number, number, boolean][] = [
  ["a 12 h token just fetched is fresh", 12 * H, 0, true],
  ["a 12 h token at 5 h 59 m is fresh", 12 * H, 6 * H - 60_000, true],
  ["a 12 h token past half its life is refreshed", 12 * H, 6 * H + 60_000, false],
  ["a 90 min token is fresh for its first 30 min (one hour must remain)", 1.5 * H, 29 * 60_000, true],
  ["a 90 min token at 31 min is refreshed", 1.5 * H, 31 * 60_000, false],
  ["a 30 min token is never fresh", 0.5 * H, 0, false],
];
for (const [what, life, age, want] of freshness) {
  test(`freshness: ${what}`, () => {
    assert.equal(isFresh(T0, new Date(T0.getTime() + life), new Date(T0.getTime() + age)), want);
  });
}

test("creates the directory 0700 and entries 0600, and a second get is served from disk without fetching", async () => {
  const s = setup();
  const cache = (await s.open())!;
  let fetches = 0;
  const fetch = async () => token(++fetches);
  const a = await cache.get("k", fetch);
  const b = await cache.get("k", fetch);
  assert.equal(fetches, 1);
  assert.equal(a.fromCache, false);
  assert.equal(b.fromCache, true);
  assert.equal(b.authorizationToken, a.authorizationToken);
  assert.equal(statSync(s.dir).mode & 0o777, 0o700);
  const files = readdirSync(s.dir);
  assert.deepEqual(files, [entryName("k") + ".json"]);
  assert.equal(statSync(join(s.dir, files[0]!)).mode & 0o777, 0o600);
});

test("a directory that others can read is tightened to 0700", async () => {
  const s = setup();
  mkdirSync(s.dir, { mode: 0o755 });
  chmodSync(s.dir, 0o755);
  await s.open();
  assert.equal(statSync(s.dir).mode & 0o777, 0o700);
});

test("file names carry no identity and no secret", async () => {
  const s = setup();
  const cache = (await s.open())!;
  await cache.get("v1|aws|us-east-1|default|AWS_ACCESS_KEY_ID=AKIDSECRETISH", async () => token(1));
  for (const f of readdirSync(s.dir)) assert.match(f, /^[0-9a-f]{40}\.json$/);
});

test("past the freshness margin the token is refreshed (injected clock)", async () => {
  const s = setup();
  const cache = (await s.open())!;
  let fetches = 0;
  await cache.get("k", async () => token(++fetches));
  s.setClock(new Date(T0.getTime() + 6 * H + 1000));
  const r = await cache.get("k", async () => token(++fetches, 12 * H, new Date(T0.getTime() + 6 * H)));
  assert.equal(fetches, 2);
  assert.equal(r.fromCache, false);
});

for (const [what, content] of [
  ["a torn file", '{"version":1,"key":"k","authorizationTok'],
  ["a file of garbage", "\u0000\u0001garbage"],
  [
    "a foreign format version",
    JSON.stringify({ version: 99, key: "k", authorizationToken: "x", expiresAt: "2030-01-01T00:00:00Z", fetchedAt: "2026-06-01T00:00:00Z" }),
  ],
  [
    "an entry for another key (hash collision or tampering)",
    JSON.stringify({
      version: 1,
      key: "other",
      authorizationToken: "QVdTOng=",
      expiresAt: "2030-01-01T00:00:00Z",
      fetchedAt: "2026-06-01T00:00:00Z",
      endpoint: "",
    }),
  ],
] as const) {
  test(`${what} is ignored and replaced, never a crash`, async () => {
    const s = setup();
    const cache = (await s.open())!;
    writeFileSync(join(s.dir, entryName("k") + ".json"), content);
    let fetches = 0;
    const r = await cache.get("k", async () => token(++fetches));
    assert.equal(fetches, 1);
    assert.equal(r.fromCache, false);
    assert.equal(JSON.parse(readFileSync(join(s.dir, entryName("k") + ".json"), "utf8")).key, "k");
  });
}

test("a lock left by a dead process is broken at once", async () => {
  const s = setup({ isAlive: (pid) => pid !== 999999 });
  const cache = (await s.open())!;
  writeFileSync(join(s.dir, entryName("k") + ".lock"), JSON.stringify({ pid: 999999, at: Date.now() }));
  const started = Date.now();
  const r = await cache.get("k", async () => token(1));
  assert.equal(r.fromCache, false);
  assert.ok(Date.now() - started < 1000);
});

test("the injected clock drives the lock: a live holder's lock older than LOCK_STALE_MS by that clock is broken and taken", async () => {
  const s = setup({ now: () => new Date(Date.now() + LOCK_STALE_MS + 60_000), isAlive: () => true });
  const cache = (await s.open())!;
  const lock = join(s.dir, entryName("k") + ".lock");
  writeFileSync(lock, JSON.stringify({ pid: 1, at: 0 }));
  let holder: unknown;
  const r = await cache.get("k", async () => {
    holder = JSON.parse(readFileSync(lock, "utf8")).pid;
    return token(1, 12 * H, new Date(Date.now() + LOCK_STALE_MS + 60_000));
  });
  assert.equal(r.fromCache, false);
  assert.equal(holder, PID, "the fetch ran under our lock, so the old one was judged stale by the injected clock");
});

test("while a live process holds the lock, a second one waits and uses what the first wrote", async () => {
  const s = setup({ isAlive: () => true });
  const first = (await s.open())!;
  const second = (await s.open())!;
  let fetches = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const p1 = first.get("k", async () => {
    await gate;
    return token(++fetches);
  });
  await new Promise((r) => setTimeout(r, 50));
  const p2 = second.get("k", async () => token(++fetches));
  await new Promise((r) => setTimeout(r, 100));
  release();
  const [a, b] = await Promise.all([p1, p2]);
  assert.equal(fetches, 1);
  assert.equal(b.fromCache, true);
  assert.equal(a.authorizationToken, b.authorizationToken);
});

test("stale-if-error: when the refresh fails and the cached token is unexpired, it is served with a warning", async () => {
  const s = setup();
  const cache = (await s.open())!;
  await cache.get("k", async () => token(1));
  s.setClock(new Date(T0.getTime() + 10 * H));
  const r = await cache.get("k", async () => {
    throw new UpstreamError("upstream_5xx", "ECR failed with HTTP 500");
  });
  assert.equal(r.stale, true);
  assert.equal(r.fromCache, true);
  assert.ok(s.lines.some((l) => /refresh failed, using the cached token/.test(l)));
});

test("an expired cached token is not served when the refresh fails: the error stands", async () => {
  const s = setup();
  const cache = (await s.open())!;
  await cache.get("k", async () => token(1));
  s.setClock(new Date(T0.getTime() + 12 * H + 1000));
  await assert.rejects(
    cache.get("k", async () => {
      throw new UpstreamError("network", "down");
    }),
    UpstreamError,
  );
});

test("a path that is a file cannot be a cache: run without one, and say so once", async () => {
  const s = setup();
  mkdirSync(join(s.dir, ".."), { recursive: true });
  writeFileSync(s.dir, "not a dir");
  assert.equal(await s.open(), undefined);
  assert.equal(s.lines.filter((l) => /token cache disabled/.test(l)).length, 1);
});

test("a cache whose directory vanished after opening still answers, warning once", async () => {
  const s = setup();
  const cache = (await s.open())!;
  // Permissions do not stop root, so break the directory itself: every write now fails with ENOTDIR.
  rmSync(s.dir, { recursive: true });
  writeFileSync(s.dir, "");
  const r1 = await cache.get("a", async () => token(1));
  const r2 = await cache.get("b", async () => token(2));
  assert.equal(r1.fromCache, false);
  assert.equal(r2.fromCache, false);
  assert.equal(s.lines.filter((l) => /could not write the token cache/.test(l)).length, 1);
});

test("key isolation: identities, service accounts and roles never share an entry; accounts in one region do", () => {
  const cfg = (env: Record<string, string>) => readConfig([], env);
  const sa = (ns: string, name: string) =>
    ["x", Buffer.from(JSON.stringify({ "kubernetes.io": { namespace: ns, serviceaccount: { name } } })).toString("base64url"), "y"].join(".");
  const t = classifyImage("111111111111.dkr.ecr.eu-west-1.amazonaws.com/a");
  const sameRegionOtherAccount = classifyImage("222222222222.dkr.ecr.eu-west-1.amazonaws.com/b");
  const otherRegion = classifyImage("111111111111.dkr.ecr.eu-west-2.amazonaws.com/a");
  const none = () => "";
  const key = (env: Record<string, string>, req: any = {}, target = t) => tokenCacheKey(target, planCredentials(cfg(env), req, none));
  const role = (arn: string, token: string) => ({ serviceAccountToken: token, serviceAccountAnnotations: { "eks.amazonaws.com/ecr-role-arn": arn } });

  assert.equal(key({ AWS_PROFILE: "a" }), key({ AWS_PROFILE: "a" }, {}, sameRegionOtherAccount), "one token per region serves every account");
  assert.notEqual(key({ AWS_PROFILE: "a" }), key({ AWS_PROFILE: "a" }, {}, otherRegion));
  assert.notEqual(key({ AWS_PROFILE: "a" }), key({ AWS_PROFILE: "b" }));
  assert.notEqual(key({ AWS_ACCESS_KEY_ID: "AKIA1" }), key({ AWS_ACCESS_KEY_ID: "AKIA2" }));
  assert.notEqual(key({}, role("arn:aws:iam::1:role/a", sa("ns", "one"))), key({}, role("arn:aws:iam::1:role/a", sa("ns", "two"))));
  assert.notEqual(key({}, role("arn:aws:iam::1:role/a", sa("ns", "one"))), key({}, role("arn:aws:iam::1:role/b", sa("ns", "one"))));
  assert.notEqual(key({}, role("arn:aws:iam::1:role/a", sa("ns", "one"))), key({}));
  assert.equal(key({}, role("arn:aws:iam::1:role/a", sa("ns", "one"))), key({}, role("arn:aws:iam::1:role/a", sa("ns", "one"))));
  assert.notEqual(
    key({}, role("arn:aws:iam::1:role/a", "opaque-1")),
    key({}, role("arn:aws:iam::1:role/a", "opaque-2")),
    "unreadable tokens share with nobody",
  );
});
