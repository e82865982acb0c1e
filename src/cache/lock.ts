// The token cache's per-entry lock: an exclusively created file holding the holder's pid, so that
// of N runs needing the same token one fetches and the others wait for what it writes.

import * as fs from "node:fs";
import * as path from "node:path";
import type { Logger } from "../core/log.ts";
import type { FetchedToken } from "../core/provider.ts";
import { isSharingError, unlinkQuietly, type CacheFs, type SetTimer } from "./cache-io.ts";

/**
 * How often a waiting process looks again even without a file-system event (events are the main
 * signal; polling is the safety net). Kept coarse: at boot hundreds of runs may wait at once on a
 * small node, and busy polling would starve the one process doing the work.
 */
export const LOCK_POLL_MS = 250;
/** How long a run waits for another run's fetch before fetching itself, when not derived from the deadline. */
export const DEFAULT_LOCK_WAIT_MS = 20_000;
/** Time a waiter keeps for its own fetch once it stops waiting for the holder. */
const LOCK_WAIT_MARGIN_MS = 5_000;

/**
 * How long to wait for another run's fetch, given this run's deadline: nearly all of it. The
 * holder releases the lock (and waiters wake) as soon as it succeeds or gives up, so a long wait
 * only matters when the holder hangs; a waiter that fetched in parallel would double the calls on
 * an account that is already throttled.
 */
export function lockWaitFor(timeoutMs: number): number {
  return Math.max(0, timeoutMs - LOCK_WAIT_MARGIN_MS);
}
/** A lock older than this is abandoned (its holder was killed): longer than any run may live (the kubelet kills at 60 s). */
export const LOCK_STALE_MS = 65_000;

/** What taking and waiting for a lock needs from the cache (see TokenCacheOptions). */
export interface LockContext {
  io: CacheFs;
  setTimer: SetTimer;
  dir: string;
  log: Logger;
  now: () => Date;
  signal: AbortSignal;
  pid: number;
  isAlive: (pid: number) => boolean;
  random: () => number;
  windows: boolean;
}

/**
 * Take the entry's lock, or wait while another live process holds it and use what it wrote
 * (`freshEntry`: the entry on disk if fresh). A lock whose holder is dead (SIGKILLed) or that is
 * older than LOCK_STALE_MS is broken. After `waitMs` we stop waiting and fetch ourselves: a slow
 * neighbour must not fail us.
 */
export async function acquireLock(
  c: LockContext,
  lock: string,
  waitMs: number,
  freshEntry: () => Promise<FetchedToken | undefined>,
): Promise<{ owned: boolean; fresh?: FetchedToken }> {
  const { io, isAlive, pid } = c;
  const now = () => c.now().getTime();
  const deadline = now() + waitMs;
  let watcher: { close(): void } | undefined;
  let wake: (() => void) | undefined;
  try {
    for (;;) {
      let held: boolean;
      try {
        held = takeLock(lock, pid, now(), io);
      } catch (err) {
        // On Windows a lock being deleted while someone still has it open is "delete pending":
        // creating it again fails with EPERM/EACCES/EBUSY for a moment. That is "held", not "cannot lock".
        if (!(c.windows && isSharingError((err as NodeJS.ErrnoException).code))) return { owned: false }; // cannot lock here: fetch without it
        held = false;
      }
      if (held) {
        // Someone may have refreshed between our read and our lock.
        const again = await freshEntry();
        if (again) {
          unlinkQuietly(io, lock);
          return { owned: false, fresh: again };
        }
        return { owned: true };
      }
      if (lockIsStale(lock, isAlive, now(), io)) {
        c.log.debug("cache lock: breaking a dead run's lock", { lock: path.basename(lock) });
        unlinkQuietly(io, lock);
        continue;
      }
      const done = await freshEntry();
      if (done) return { owned: false, fresh: done };
      if (now() > deadline || c.signal.aborted) return { owned: false };
      // Sleep until the directory changes (the holder renames the entry in, then removes the lock) or the poll interval passes.
      if (!watcher) {
        try {
          const w = io.watch(c.dir, { persistent: false }, () => wake?.());
          w.on("error", () => undefined);
          watcher = w;
        } catch {
          watcher = undefined;
        }
      }
      await new Promise<void>((resolve) => {
        const cancel = c.setTimer(LOCK_POLL_MS + Math.floor(c.random() * 50), resolve);
        wake = () => {
          cancel();
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    watcher?.close();
  }
}

/**
 * Create `lock` exclusively with our pid in it. True when we hold it, false when it exists (another
 * run's); other errors (read-only directory…) are thrown. `cache clear` takes the same locks.
 */
export function takeLock(lock: string, pid: number, nowMs: number, io: CacheFs = fs): boolean {
  let fd: number;
  try {
    fd = io.openSync(lock, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    io.writeFileSync(fd, JSON.stringify({ pid, at: nowMs }));
  } finally {
    io.closeSync(fd);
  }
  return true;
}

/** A lock whose holder died, older than LOCK_STALE_MS, or unreadable garbage: safe to break. */
export function lockIsStale(lock: string, isAlive: (pid: number) => boolean, nowMs: number, io: CacheFs = fs): boolean {
  try {
    const text = io.readFileSync(lock, "utf8");
    const age = nowMs - io.statSync(lock).mtimeMs;
    if (age > LOCK_STALE_MS) return true;
    if (text.length === 0) return age > 1000; // holder is between create and write
    const { pid } = JSON.parse(text) as { pid?: number };
    return typeof pid === "number" && !isAlive(pid);
  } catch (err) {
    // Gone already (released) is not stale; unreadable garbage is.
    return (err as NodeJS.ErrnoException).code !== "ENOENT";
  }
}
