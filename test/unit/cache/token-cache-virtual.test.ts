// The token cache's lock protocol through its seams, as the fleet simulation runs it: an in-memory
// file system and process table (test/helpers/mem-fs.ts) and a virtual clock (bench/fleet/sim.ts),
// so waits of a minute take no real time and every instant is exact.

import { test } from "node:test";
import assert from "node:assert/strict";
import { LOCK_STALE_MS, entryName, openTokenCache } from "../../../src/cache/token-cache.ts";
import type { FetchedToken } from "../../../src/core/provider.ts";
import { createLogger } from "../../../src/core/log.ts";
import { Clock } from "../../../bench/fleet/sim.ts";
import { MemFs } from "../../helpers/mem-fs.ts";

const T0 = Date.UTC(2026, 5, 1);
const DIR = "/var/cache/ecr-credential-provider";
/** With random() = 0.5 a waiter looks again every 250 + 25 ms when nothing wakes it. */
const POLL = 275;

function machine() {
  const clock = new Clock();
  const disk = new MemFs(() => T0 + clock.now);
  const lines: string[] = [];
  const log = createLogger({ level: "debug", format: "text", write: (l) => lines.push(l), now: () => new Date(T0 + clock.now) });
  /** A new process on the machine with the cache opened as cli/main.ts opens it. */
  const exec = async (lockWaitMs = 50_000) => {
    const proc = disk.spawn(clock.timer);
    const cache = await openTokenCache({
      dir: DIR,
      log,
      now: () => new Date(T0 + clock.now),
      signal: new AbortController().signal,
      pid: proc.pid,
      isAlive: disk.isAlive,
      random: () => 0.5,
      lockWaitMs,
      fs: proc,
      setTimer: proc.setTimer,
    });
    assert.ok(cache);
    return { proc, cache };
  };
  /** Let pending promise continuations run, then run the virtual clock until nothing is scheduled. */
  const settle = () => new Promise<void>((r) => setImmediate(r));
  const run = async () => {
    await settle();
    await clock.run(Infinity, () => false);
  };
  return { clock, disk, lines, exec, settle, run };
}

const token = (n: number): FetchedToken => ({
  authorizationToken: Buffer.from(`AWS:pw${n}`).toString("base64"),
  expiresAt: new Date(T0 + 12 * 3600_000),
  endpoint: "sim",
});
const LOCK = entryName("k") + ".lock";
const ENTRY = entryName("k") + ".json";

test("virtual clock: two concurrent runs, one fetch; the waiter is woken by the directory change, not by its poll", async () => {
  const m = machine();
  const holder = await m.exec();
  const waiter = await m.exec();
  let fetches = 0;
  const done: Record<string, number> = {};
  const a = holder.cache.get("k", async () => {
    fetches++;
    await m.clock.sleep(1000);
    return token(1);
  });
  await m.settle();
  assert.deepEqual(m.disk.list(DIR), [LOCK], "the first run holds the lock while it fetches");
  const b = waiter.cache.get("k", async () => token(++fetches));
  void a.then(() => (done.holder = m.clock.now));
  void b.then(() => (done.waiter = m.clock.now));
  await m.run();
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(fetches, 1);
  assert.equal(ra.fromCache, false);
  assert.equal(rb.fromCache, true);
  assert.equal(rb.authorizationToken, ra.authorizationToken);
  // 1000 ms is no multiple of the poll interval: the waiter answered when the entry appeared.
  assert.equal(done.holder, 1000);
  assert.equal(
    done.waiter,
    1000,
    `the waiter answered at ${done.waiter} ms, not when the entry was written (a poll would say ${Math.ceil(1000 / POLL) * POLL})`,
  );
  assert.deepEqual(m.disk.list(DIR), [ENTRY], "no lock or temporary file is left");
});

test("virtual clock: a SIGKILLed holder's lock stays behind and the next poll breaks it (its pid is dead)", async () => {
  const m = machine();
  const victim = await m.exec();
  void victim.cache.get("k", () => new Promise<FetchedToken>(() => undefined)); // hangs on ECR
  await m.settle();
  const waiter = await m.exec();
  let fetchedAt: number | undefined;
  const b = waiter.cache.get("k", async () => {
    fetchedAt = m.clock.now;
    return token(2);
  });
  let leftBehind: string[] = [];
  m.clock.after(5000, () => victim.proc.exit()); // SIGKILL: no finally runs
  m.clock.after(5100, () => (leftBehind = m.disk.list(DIR)));
  await m.run();
  const r = await b;
  assert.equal(r.fromCache, false);
  assert.deepEqual(leftBehind, [LOCK], "the killed run's lock is still there after the kill");
  assert.ok(fetchedAt! > 5000 && fetchedAt! <= 5000 + POLL, `the waiter fetched at ${fetchedAt} ms, not at its first poll after the kill`);
  assert.ok(m.lines.some((l) => /breaking a dead run's lock/.test(l)));
  assert.deepEqual(m.disk.list(DIR), [ENTRY]);
});

test("virtual clock: a lock whose holder looks alive (pid reused, or hung) is broken once older than LOCK_STALE_MS", async () => {
  const m = machine();
  const hung = await m.exec();
  void hung.cache.get("k", () => new Promise<FetchedToken>(() => undefined));
  await m.settle();
  const waiter = await m.exec(2 * LOCK_STALE_MS);
  let fetchedAt: number | undefined;
  const b = waiter.cache.get("k", async () => {
    fetchedAt = m.clock.now;
    return token(3);
  });
  await m.run();
  await b;
  assert.ok(fetchedAt! > LOCK_STALE_MS && fetchedAt! <= LOCK_STALE_MS + POLL, `the lock was broken at ${fetchedAt} ms`);
});
