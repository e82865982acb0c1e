// Node-wide on-disk ECR token cache: one file per (partition, region, identity), a lock so N runs make one call, atomic writes, stale-if-error.

import * as fs from "node:fs";
import { watch, type FSWatcher } from "node:fs";
import * as path from "node:path";
import type { Logger } from "../core/log.ts";
import type { FetchedToken, TokenStore } from "../core/provider.ts";
import { sha256Hex } from "../core/sha256.ts";

// Synchronous node:fs on purpose: node:fs is loaded at start-up anyway, node:fs/promises costs ~4 ms
// more per run, and a run does a handful of small operations on a local directory.

/** Bump when the entry format changes; other versions are ignored and replaced. */
export const CACHE_FORMAT_VERSION = 1;
/** Refresh once less than this remains, even if half the life has not passed. */
export const MIN_REMAINING_MS = 60 * 60_000;
/** A stale entry is still served on upstream failure only while it has this much life left. */
export const STALE_MIN_REMAINING_MS = 60_000;
/**
 * How often a waiting process looks again even without a file-system event (events are the main
 * signal; polling is the safety net). Kept coarse: at boot hundreds of runs may wait at once on a
 * small node, and busy polling would starve the one process doing the work.
 */
const LOCK_POLL_MS = 250;
/** How long a run waits for another run's fetch before fetching itself (well inside the 30 s deadline). */
export const DEFAULT_LOCK_WAIT_MS = 20_000;
/** A lock older than this is abandoned (its holder was killed): longer than any run may live (the kubelet kills at 60 s). */
export const LOCK_STALE_MS = 65_000;

interface Entry {
  version: number;
  key: string;
  authorizationToken: string;
  expiresAt: string;
  fetchedAt: string;
  endpoint: string;
}

export interface TokenCacheOptions {
  dir: string;
  log: Logger;
  /** The one clock: freshness, lock age and the lock-wait deadline. */
  now: () => Date;
  signal: AbortSignal;
  /** How long to wait for another process's fetch before fetching ourselves. */
  lockWaitMs?: number;
  /** This process's id, written into the lock. */
  pid: number;
  /** Whether the process holding a lock is alive (cli/main.ts: kill(pid, 0)). */
  isAlive: (pid: number) => boolean;
  /** Jitter in [0, 1) for the lock poll, so waiters do not wake in step. */
  random: () => number;
}

/**
 * Whether a cached token may be used at `now`: more than half its life and more than an hour
 * left (whichever is more conservative). A token without a known life is never fresh.
 */
export function isFresh(fetchedAt: Date, expiresAt: Date, now: Date): boolean {
  const life = expiresAt.getTime() - fetchedAt.getTime();
  const remaining = expiresAt.getTime() - now.getTime();
  return life > 0 && remaining > Math.max(life / 2, MIN_REMAINING_MS);
}

/** File name of a key: a hash, so no identity or secret appears in names. */
export function entryName(key: string): string {
  return sha256Hex(key).slice(0, 40);
}

/**
 * Open (creating 0700 if needed) the cache directory. Returns undefined, after one warning, when
 * it cannot be used: the plugin then works without a cache.
 */
export async function openTokenCache(opts: TokenCacheOptions): Promise<TokenStore | undefined> {
  const { dir, log } = opts;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    if (!st.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    // Tokens are credentials: nobody but the owner may list or read the directory.
    if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.R_OK | fs.constants.X_OK);
  } catch (err) {
    log.warn(`token cache disabled: cannot use ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); every run will call ECR`);
    return undefined;
  }
  return new DiskTokenCache(opts);
}

class DiskTokenCache implements TokenStore {
  private warnedWrite = false;
  constructor(private readonly o: TokenCacheOptions) {}

  async get(key: string, fetch: () => Promise<FetchedToken>): Promise<FetchedToken & { fromCache: boolean; stale?: boolean }> {
    const file = path.join(this.o.dir, entryName(key) + ".json");
    const lock = path.join(this.o.dir, entryName(key) + ".lock");
    const cached = await this.read(file, key);
    if (cached && isFresh(cached.fetchedAt, cached.expiresAt, this.o.now())) return { ...cached.token, fromCache: true };

    const held = await this.acquire(lock, file, key);
    if (held.fresh) return { ...held.fresh, fromCache: true };
    try {
      let token: FetchedToken;
      try {
        token = await fetch();
      } catch (err) {
        const fallback = (await this.read(file, key)) ?? cached;
        if (fallback && fallback.expiresAt.getTime() - this.o.now().getTime() > STALE_MIN_REMAINING_MS) {
          this.o.log.warn(`refresh failed, using the cached token until it expires: ${(err as Error).message}`);
          return { ...fallback.token, fromCache: true, stale: true };
        }
        throw err;
      }
      if (token.expiresAt) await this.write(file, key, token);
      return { ...token, fromCache: false };
    } finally {
      if (held.owned) unlinkQuietly(lock);
    }
  }

  private async read(file: string, key: string): Promise<{ token: FetchedToken; fetchedAt: Date; expiresAt: Date } | undefined> {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
    try {
      const e = JSON.parse(text) as Partial<Entry>;
      if (e.version !== CACHE_FORMAT_VERSION || e.key !== key || typeof e.authorizationToken !== "string") return undefined;
      const expiresAt = new Date(String(e.expiresAt));
      const fetchedAt = new Date(String(e.fetchedAt));
      if (Number.isNaN(expiresAt.getTime()) || Number.isNaN(fetchedAt.getTime())) return undefined;
      this.o.log.addSecret(e.authorizationToken);
      return { token: { authorizationToken: e.authorizationToken, expiresAt, endpoint: String(e.endpoint ?? "") }, fetchedAt, expiresAt };
    } catch {
      // Torn, corrupt or foreign: ignore; the next successful fetch replaces it.
      this.o.log.debug("ignoring an unreadable cache entry", { file });
      return undefined;
    }
  }

  /** Atomic replace: temporary file (0600) → fsync → rename → fsync the directory. */
  private async write(file: string, key: string, token: FetchedToken): Promise<void> {
    const entry: Entry = {
      version: CACHE_FORMAT_VERSION,
      key,
      authorizationToken: token.authorizationToken,
      expiresAt: token.expiresAt!.toISOString(),
      fetchedAt: this.o.now().toISOString(),
      endpoint: token.endpoint,
    };
    const tmp = `${file}.${this.o.pid}.${this.o.now().getTime().toString(36)}.tmp`;
    try {
      const fd = fs.openSync(tmp, "wx", 0o600);
      try {
        fs.writeFileSync(fd, JSON.stringify(entry));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
      const dfd = fs.openSync(this.o.dir, "r");
      try {
        fs.fsyncSync(dfd);
      } catch {
        // some file systems refuse fsync on a directory; the rename is still atomic
      } finally {
        fs.closeSync(dfd);
      }
    } catch (err) {
      unlinkQuietly(tmp);
      if (!this.warnedWrite) {
        this.warnedWrite = true;
        this.o.log.warn(`could not write the token cache (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); answering without caching`);
      }
    }
  }

  /**
   * Take the entry's lock, or wait while another live process holds it and use what it wrote.
   * A lock whose holder is dead (SIGKILLed) or that is older than LOCK_STALE_MS is broken.
   * After `lockWaitMs` we stop waiting and fetch ourselves: a slow neighbour must not fail us.
   */
  private async acquire(lock: string, file: string, key: string): Promise<{ owned: boolean; fresh?: FetchedToken }> {
    const { isAlive, pid } = this.o;
    const now = () => this.o.now().getTime();
    const deadline = now() + (this.o.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS);
    let watcher: FSWatcher | undefined;
    let wake: (() => void) | undefined;
    try {
    for (;;) {
      try {
        const fd = fs.openSync(lock, "wx", 0o600);
        try {
          fs.writeFileSync(fd, JSON.stringify({ pid, at: now() }));
        } finally {
          fs.closeSync(fd);
        }
        // Someone may have refreshed between our read and our lock.
        const again = await this.read(file, key);
        if (again && isFresh(again.fetchedAt, again.expiresAt, this.o.now())) {
          unlinkQuietly(lock);
          return { owned: false, fresh: again.token };
        }
        return { owned: true };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "EEXIST") return { owned: false }; // cannot lock here: fetch without it
      }
      if (this.lockIsStale(lock, isAlive)) {
        unlinkQuietly(lock);
        continue;
      }
      const done = await this.read(file, key);
      if (done && isFresh(done.fetchedAt, done.expiresAt, this.o.now())) return { owned: false, fresh: done.token };
      if (now() > deadline || this.o.signal.aborted) return { owned: false };
      // Sleep until the directory changes (the holder renames the entry in, then removes the lock) or the poll interval passes.
      if (!watcher) {
        try {
          watcher = watch(this.o.dir, { persistent: false }, () => wake?.());
          watcher.on("error", () => undefined);
        } catch {
          watcher = undefined;
        }
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, LOCK_POLL_MS + Math.floor(this.o.random() * 50));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
    } finally {
      watcher?.close();
    }
  }

  private lockIsStale(lock: string, isAlive: (pid: number) => boolean): boolean {
    try {
      const text = fs.readFileSync(lock, "utf8");
      const age = this.o.now().getTime() - fs.statSync(lock).mtimeMs;
      if (age > LOCK_STALE_MS) return true;
      if (text.length === 0) return age > 1000; // holder is between create and write
      const { pid } = JSON.parse(text) as { pid?: number };
      return typeof pid === "number" && !isAlive(pid);
    } catch (err) {
      // Gone already (released) is not stale; unreadable garbage is.
      return (err as NodeJS.ErrnoException).code !== "ENOENT";
    }
  }
}

function unlinkQuietly(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // already gone
  }
}
