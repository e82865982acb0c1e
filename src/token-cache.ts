// Node-wide on-disk ECR token cache: one file per (partition, region, identity), a lock so N runs make one call, atomic writes, stale-if-error.

import { createHash, randomBytes } from "node:crypto";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import type { Logger } from "./log.js";
import type { FetchedToken, TokenStore } from "./provider.js";

/** Bump when the entry format changes; other versions are ignored and replaced. */
export const CACHE_FORMAT_VERSION = 1;
/** Refresh once less than this remains, even if half the life has not passed. */
export const MIN_REMAINING_MS = 60 * 60_000;
/** A stale entry is still served on upstream failure only while it has this much life left. */
export const STALE_MIN_REMAINING_MS = 60_000;
/** How often a waiting process looks whether the lock holder has finished. */
const LOCK_POLL_MS = 20;
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
  now: () => Date;
  signal: AbortSignal;
  /** How long to wait for another process's fetch before fetching ourselves. */
  lockWaitMs?: number;
  /** Whether a process id is alive (default: kill(pid, 0)); injectable for tests. */
  isAlive?: (pid: number) => boolean;
  pid?: number;
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
  return createHash("sha256").update(key).digest("hex").slice(0, 40);
}

function defaultIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Open (creating 0700 if needed) the cache directory. Returns undefined, after one warning, when
 * it cannot be used: the plugin then works without a cache.
 */
export async function openTokenCache(opts: TokenCacheOptions): Promise<TokenStore | undefined> {
  const { dir, log } = opts;
  try {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    // Tokens are credentials: nobody but the owner may list or read the directory.
    if ((st.mode & 0o077) !== 0) await fsp.chmod(dir, 0o700);
    await fsp.access(dir, fsp.constants.W_OK | fsp.constants.R_OK | fsp.constants.X_OK);
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
      if (held.owned) await fsp.unlink(lock).catch(() => undefined);
    }
  }

  private async read(file: string, key: string): Promise<{ token: FetchedToken; fetchedAt: Date; expiresAt: Date } | undefined> {
    let text: string;
    try {
      text = await fsp.readFile(file, "utf8");
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
    const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const fh = await fsp.open(tmp, "wx", 0o600);
      try {
        await fh.writeFile(JSON.stringify(entry));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, file);
      const dh = await fsp.open(this.o.dir, "r");
      await dh.sync().catch(() => undefined);
      await dh.close();
    } catch (err) {
      await fsp.unlink(tmp).catch(() => undefined);
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
    const isAlive = this.o.isAlive ?? defaultIsAlive;
    const pid = this.o.pid ?? process.pid;
    const deadline = Date.now() + (this.o.lockWaitMs ?? 10_000);
    for (;;) {
      try {
        const fh = await fsp.open(lock, "wx", 0o600);
        await fh.writeFile(JSON.stringify({ pid, at: Date.now() }));
        await fh.close();
        // Someone may have refreshed between our read and our lock.
        const again = await this.read(file, key);
        if (again && isFresh(again.fetchedAt, again.expiresAt, this.o.now())) {
          await fsp.unlink(lock).catch(() => undefined);
          return { owned: false, fresh: again.token };
        }
        return { owned: true };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "EEXIST") return { owned: false }; // cannot lock here: fetch without it
      }
      if (await this.lockIsStale(lock, isAlive)) {
        await fsp.unlink(lock).catch(() => undefined);
        continue;
      }
      const done = await this.read(file, key);
      if (done && isFresh(done.fetchedAt, done.expiresAt, this.o.now())) return { owned: false, fresh: done.token };
      if (Date.now() > deadline || this.o.signal.aborted) return { owned: false };
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }

  private async lockIsStale(lock: string, isAlive: (pid: number) => boolean): Promise<boolean> {
    try {
      const [text, st] = await Promise.all([fsp.readFile(lock, "utf8"), fsp.stat(lock)]);
      if (Date.now() - st.mtimeMs > LOCK_STALE_MS) return true;
      if (text.length === 0) return Date.now() - st.mtimeMs > 1000; // holder is between create and write
      const { pid } = JSON.parse(text) as { pid?: number };
      return typeof pid === "number" && !isAlive(pid);
    } catch (err) {
      // Gone already (released) is not stale; unreadable garbage is.
      return (err as NodeJS.ErrnoException).code !== "ENOENT";
    }
  }
}
