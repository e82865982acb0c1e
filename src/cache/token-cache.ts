// Node-wide on-disk ECR token cache: one file per (partition, region, identity), a lock so N runs make one call, atomic writes, stale-if-error.

import * as fs from "node:fs";
import * as path from "node:path";
import type { Logger } from "../core/log.ts";
import type { FetchedToken, TokenStore } from "../core/provider.ts";
import { sha256Hex } from "../core/sha256.ts";
import { isSharingError, realTimer, unlinkQuietly, type CacheFs, type SetTimer } from "./cache-io.ts";
import { DEFAULT_LOCK_WAIT_MS, acquireLock, type LockContext } from "./lock.ts";

export { DEFAULT_LOCK_WAIT_MS, LOCK_STALE_MS, lockIsStale, lockWaitFor, takeLock } from "./lock.ts";
export type { CacheFs, SetTimer } from "./cache-io.ts";

// Synchronous node:fs on purpose: node:fs is loaded at start-up anyway, node:fs/promises costs ~4 ms
// more per run, and a run does a handful of small operations on a local directory.

/** Bump when the entry format changes; other versions are ignored and replaced. */
export const CACHE_FORMAT_VERSION = 1;
/** Refresh once less than this remains, even if half the life has not passed. */
export const MIN_REMAINING_MS = 60 * 60_000;
/** A stale entry is still served on upstream failure only while it has this much life left. */
export const STALE_MIN_REMAINING_MS = 60_000;
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
  /**
   * On Windows (set by main.ts): icacls.exe's full path. Switches to ACLs instead of modes, rename
   * retries on sharing errors, no directory fsync (see docs/windows.md).
   */
  windowsIcacls?: string;
  /** This process's id, written into the lock. */
  pid: number;
  /** Whether the process holding a lock is alive (cli/main.ts: kill(pid, 0)). */
  isAlive: (pid: number) => boolean;
  /** Jitter in [0, 1) for the lock poll, so waiters do not wake in step. */
  random: () => number;
  /** The file operations (default node:fs); the fleet simulation gives each node an in-memory file system. */
  fs?: CacheFs;
  /** The lock poll's and Windows rename retries' timer (default setTimeout). */
  setTimer?: SetTimer;
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
  const io = opts.fs ?? fs;
  try {
    if (opts.windowsIcacls) {
      // Modes mean nothing on NTFS: the directory gets an ACL instead (see createWindowsCacheDir).
      if (!io.existsSync(dir)) await createWindowsCacheDir(io, dir, opts.windowsIcacls, opts.pid);
    } else {
      io.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    const st = io.statSync(dir);
    if (!st.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    // Tokens are credentials: nobody but the owner may list or read the directory.
    if (!opts.windowsIcacls && (st.mode & 0o077) !== 0) io.chmodSync(dir, 0o700);
    io.accessSync(dir, fs.constants.W_OK | fs.constants.R_OK | fs.constants.X_OK);
  } catch (err) {
    log.warn(`token cache disabled: cannot use ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); every run will call ECR`);
    return undefined;
  }
  return new DiskTokenCache(opts, io);
}

class DiskTokenCache implements TokenStore {
  private warnedWrite = false;
  private readonly lockCtx: LockContext;
  constructor(
    private readonly o: TokenCacheOptions,
    private readonly io: CacheFs,
  ) {
    this.lockCtx = { ...o, io, setTimer: o.setTimer ?? realTimer, windows: o.windowsIcacls !== undefined };
  }

  async get(key: string, fetch: () => Promise<FetchedToken>): Promise<FetchedToken & { fromCache: boolean; stale?: boolean }> {
    const name = entryName(key);
    const file = path.join(this.o.dir, name + ".json");
    const lock = path.join(this.o.dir, name + ".lock");
    const cached = await this.read(file, key);
    const hit = cached !== undefined && isFresh(cached.fetchedAt, cached.expiresAt, this.o.now());
    this.o.log.debug("cache lookup", {
      file: path.basename(file),
      result: hit ? "fresh" : cached ? "needs refresh" : "miss",
      ...(cached ? { expiresAt: cached.expiresAt.toISOString() } : {}),
    });
    if (hit) return { ...cached.token, fromCache: true };

    const waitStarted = this.o.now().getTime();
    const held = await acquireLock(this.lockCtx, lock, this.o.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS, async () => {
      const e = await this.read(file, key);
      return e && isFresh(e.fetchedAt, e.expiresAt, this.o.now()) ? e.token : undefined;
    });
    this.o.log.debug("cache lock", {
      lock: path.basename(lock),
      result: held.owned ? "taken" : held.fresh ? "another run fetched the token" : "not taken: fetching without it",
      waitedMs: this.o.now().getTime() - waitStarted,
    });
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
      if (held.owned) unlinkQuietly(this.io, lock);
    }
  }

  private async read(file: string, key: string): Promise<{ token: FetchedToken; fetchedAt: Date; expiresAt: Date } | undefined> {
    let text: string;
    try {
      text = this.io.readFileSync(file, "utf8");
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
    const { io } = this;
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
      const fd = io.openSync(tmp, "wx", 0o600);
      try {
        io.writeFileSync(fd, JSON.stringify(entry));
        io.fsyncSync(fd);
      } finally {
        io.closeSync(fd);
      }
      await renameWithRetries(tmp, file, this.lockCtx.windows, (a, b) => io.renameSync(a, b), this.lockCtx.setTimer);
      this.o.log.debug("cache write", { file: path.basename(file), expiresAt: entry.expiresAt });
      // Windows has no directory fsync (NTFS journals the rename itself) and refuses to open a directory as a file.
      if (!this.o.windowsIcacls) {
        const dfd = io.openSync(this.o.dir, "r");
        try {
          io.fsyncSync(dfd);
        } catch {
          // some file systems refuse fsync on a directory; the rename is still atomic
        } finally {
          io.closeSync(dfd);
        }
      }
    } catch (err) {
      unlinkQuietly(io, tmp);
      if (!this.warnedWrite) {
        this.warnedWrite = true;
        this.o.log.warn(`could not write the token cache (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); answering without caching`);
      }
    }
  }
}

/** Replace attempts and the pause before each retry: ~0.3 s in all, well inside a run's budget. */
const RENAME_RETRY_MS = [10, 20, 40, 80, 150];

/**
 * rename(tmp, file), retried while Windows refuses to replace a file another process has open
 * (a reader between open and close, a scanner). Readers do a single readFile, so the window is
 * short; when it does not close, the caller skips this write (the cache is an optimisation).
 * Never retried on POSIX, where rename replaces open files.
 */
export async function renameWithRetries(
  tmp: string,
  file: string,
  windows: boolean,
  rename: (a: string, b: string) => void = fs.renameSync,
  setTimer: SetTimer = realTimer,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      rename(tmp, file);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!windows || !isSharingError(code) || attempt >= RENAME_RETRY_MS.length) throw err;
      await new Promise<void>((resolve) => setTimer(RENAME_RETRY_MS[attempt]!, resolve));
    }
  }
}

/**
 * Creates the Windows cache directory with an ACL that lets only LocalSystem (S-1-5-18) and
 * BUILTIN\Administrators (S-1-5-32-544) in, inheritance removed (under %ProgramData% the inherited
 * ACL lets every user read). Made under a temporary name and renamed into place once restricted,
 * so no token is ever written into a readable directory, even by a concurrent first run.
 * SIDs, not names: names are localised. Throws when icacls fails: then no cache rather than a readable one.
 */
async function createWindowsCacheDir(io: CacheFs, dir: string, icacls: string, pid: number): Promise<void> {
  io.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.${pid}.tmp`;
  io.mkdirSync(tmp);
  try {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(icacls, [tmp, "/inheritance:r", "/grant:r", "*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F"], {
      windowsHide: true,
      timeout: 10_000,
      encoding: "utf8",
    });
    if (r.status !== 0) throw Object.assign(new Error(`icacls exited ${r.status ?? r.error?.message}`), { code: "EACL" });
    try {
      io.renameSync(tmp, dir);
    } catch (err) {
      if (!io.existsSync(dir)) throw err; // a concurrent first run won: use its directory
    }
  } finally {
    io.rmSync(tmp, { recursive: true, force: true });
  }
}
