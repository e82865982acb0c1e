// `cache list` and `cache clear`: the token cache made visible to operators. Lazy half only: a plugin
// run never loads this. Never prints or returns a token or password: entries are read field by field.

import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, InputError, UpstreamError } from "../core/errors.ts";
import { describeDefaultChain } from "../core/credential-plan.ts";
import { classifyImage, type AliasMap } from "../core/registry.ts";
import { CACHE_FORMAT_VERSION, DEFAULT_LOCK_WAIT_MS, STALE_MIN_REMAINING_MS, isFresh, lockIsStale, takeLock } from "./token-cache.ts";

export type EntryState = "fresh" | "stale-usable" | "expired" | "unreadable";

/** One cache entry as `cache list` shows it: no secret in it. */
export interface CacheEntryInfo {
  /** The entry's file name in the cache directory (a hash of its key). */
  file: string;
  kind?: "private" | "public";
  partition?: string;
  region?: string;
  fips?: boolean;
  dualstack?: boolean;
  /** What the token serves: every private registry of the identity in one partition and region, or ECR Public. */
  scope: string;
  /** Which credentials obtained it, for humans; never a secret (role ARNs, profile names, service accounts). */
  identity: string;
  obtainedAt?: string;
  expiresAt?: string;
  state: EntryState;
  endpoint?: string;
}

/**
 * Read the parts of a cache key (`v1|ecr-public|<identity>` or
 * `v1|<partition>|<region>|fips=…|dualstack=…|<identity>`, see core/provider.ts tokenCacheKey).
 */
export function describeKey(key: string): Pick<CacheEntryInfo, "kind" | "partition" | "region" | "fips" | "dualstack" | "scope" | "identity"> | undefined {
  const parts = key.split("|");
  if (parts[0] !== "v1") return undefined;
  if (parts[1] === "ecr-public") {
    return {
      kind: "public",
      partition: "aws",
      region: "us-east-1",
      fips: false,
      dualstack: false,
      scope: "ECR Public",
      identity: identityLabel(parts.slice(2)),
    };
  }
  const [, partition, region, fips, dualstack, ...identity] = parts;
  if (!partition || !region || !fips?.startsWith("fips=") || !dualstack?.startsWith("dualstack=")) return undefined;
  const f = fips === "fips=true";
  const d = dualstack === "dualstack=true";
  const flavour = [f ? "FIPS" : "", d ? "dual-stack" : ""].filter(Boolean).join(", ");
  return {
    kind: "private",
    partition,
    region,
    fips: f,
    dualstack: d,
    scope: `ECR private ${partition}/${region}${flavour ? ` (${flavour})` : ""}`,
    identity: identityLabel(identity),
  };
}

/** A label for the identity part of a key (core/credential-plan.ts planCredentials): names and ARNs, never a value that grants access. */
export function identityLabel(parts: readonly string[]): string {
  const [kind, ...rest] = parts;
  if (kind === "sa") {
    const [roleArn, who] = rest;
    return `service account ${who?.startsWith("token-sha256:") ? "(unnamed)" : who} → ${roleArn}`;
  }
  if (kind === "ra") {
    // ra|rolesanywhere|<trust anchor>|<profile>|<role>|sha256:<leaf>|<seconds>|…
    const [, , , role, leaf] = rest;
    return `IAM Roles Anywhere → ${role ?? "?"} (certificate ${leaf?.slice(0, 19) ?? "?"}…)`;
  }
  if (kind === "default") {
    const env: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf("=");
      if (eq > 0) env[p.slice(0, eq)] = p.slice(eq + 1);
    }
    return describeDefaultChain(env);
  }
  return "unknown";
}

/** Every entry of the cache directory, oldest expiry first. A missing directory is an empty cache. */
export function listCache(dir: string, now: Date): CacheEntryInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    throw new ConfigError("cache_unreadable", `cannot read the token cache directory ${dir} (${code ?? (err as Error).message}); it is root's: run as root`);
  }
  const out: CacheEntryInfo[] = [];
  for (const name of names.filter((n) => /^[0-9a-f]{40}\.json$/.test(n)).sort()) {
    out.push(readEntry(dir, name, now));
  }
  return out.sort((a, b) => (a.expiresAt ?? "").localeCompare(b.expiresAt ?? ""));
}

function readEntry(dir: string, file: string, now: Date): CacheEntryInfo {
  const unreadable: CacheEntryInfo = { file, scope: "?", identity: "?", state: "unreadable" };
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as Record<string, unknown>;
  } catch {
    return unreadable;
  }
  if (e.version !== CACHE_FORMAT_VERSION || typeof e.key !== "string") return unreadable;
  const k = describeKey(e.key);
  const expiresAt = new Date(String(e.expiresAt));
  const fetchedAt = new Date(String(e.fetchedAt));
  if (!k || Number.isNaN(expiresAt.getTime()) || Number.isNaN(fetchedAt.getTime())) return unreadable;
  const state: EntryState = isFresh(fetchedAt, expiresAt, now)
    ? "fresh"
    : expiresAt.getTime() - now.getTime() > STALE_MIN_REMAINING_MS
      ? "stale-usable"
      : "expired";
  return {
    file,
    ...k,
    obtainedAt: fetchedAt.toISOString(),
    expiresAt: expiresAt.toISOString(),
    state,
    ...(typeof e.endpoint === "string" && e.endpoint ? { endpoint: e.endpoint } : {}),
  };
}

/** Which entries `cache clear [REGISTRY|REGION]` removes. */
export function clearFilter(arg: string | undefined, aliases: AliasMap): (e: CacheEntryInfo) => boolean {
  if (arg === undefined) return () => true;
  if (arg === "") throw new InputError("bad_usage", "cache clear: the registry or region is empty");
  if (/^[a-z]{2}(-[a-z]+)+-\d+$/.test(arg)) return (e) => e.kind === "private" && e.region === arg;
  const t = classifyImage(arg.includes("/") ? arg : `${arg}/x`, aliases);
  return (e) => e.kind === t.kind && e.partition === t.partition && e.region === t.region && e.fips === t.fips && e.dualstack === t.dualstack;
}

export interface ClearResult {
  removed: CacheEntryInfo[];
  /** Entries whose lock another run held past the wait: left in place. */
  busy: CacheEntryInfo[];
}

/**
 * Remove the matching entries, each under its lock: a run fetching that token finishes first (up to
 * `lockWaitMs`), a dead run's lock is broken. Unreadable entries are removed by a full clear only.
 */
export async function clearCache(
  dir: string,
  match: (e: CacheEntryInfo) => boolean,
  opts: {
    now: () => Date;
    all: boolean;
    lockWaitMs?: number;
    isAlive: (pid: number) => boolean;
    pid: number;
    /** Pause between lock polls; injected so tests wait on a virtual clock. */
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<ClearResult> {
  const { isAlive, pid } = opts;
  const now = () => opts.now().getTime();
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const result: ClearResult = { removed: [], busy: [] };
  for (const e of listCache(dir, opts.now())) {
    if (e.state === "unreadable" ? !opts.all : !match(e)) continue;
    const base = path.join(dir, e.file.replace(/\.json$/, ""));
    const lock = base + ".lock";
    const deadline = now() + (opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS);
    let locked: boolean;
    for (;;) {
      try {
        locked = takeLock(lock, pid, now());
      } catch (err) {
        throw new ConfigError("cache_unwritable", `cannot lock ${lock} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); run as root`);
      }
      if (locked) break;
      if (lockIsStale(lock, isAlive, now())) {
        try {
          fs.unlinkSync(lock);
        } catch {
          // released meanwhile
        }
        continue;
      }
      if (now() > deadline) break;
      await sleep(100);
    }
    if (!locked) {
      result.busy.push(e);
      continue;
    }
    try {
      fs.rmSync(base + ".json", { force: true });
      result.removed.push(e);
    } finally {
      fs.rmSync(lock, { force: true });
    }
  }
  return result;
}

const USAGE = `Usage:
  ecr-credential-provider cache list [--output=text|json] [--cache-dir DIR]
  ecr-credential-provider cache clear [REGISTRY|REGION] [--cache-dir DIR]

list   one line per cached token: what it serves (partition/region or ECR Public), the identity that
       obtained it, when, when it expires, and its state: fresh (answers runs), stale-usable (a run
       refreshes it, and uses it only if AWS fails) or expired. Never a password or token.
clear  remove every entry, or those serving REGISTRY (an image or registry host, aliases applied)
       or REGION (e.g. cn-northwest-1), each under its lock: a run fetching that token finishes first.
`;

export function cacheUsage(): string {
  return USAGE;
}

/** `cache list|clear …`: returns the exit code. `args` are the words after `cache`; flags were read by config.ts. */
export async function runCacheCommand(
  args: readonly string[],
  ctx: {
    dir: string;
    output: "text" | "json";
    aliases: AliasMap;
    now: () => Date;
    writeStdout: (s: string) => void;
    pid: number;
    isAlive: (pid: number) => boolean;
  },
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "list") {
    if (rest.length > 0) throw new InputError("bad_usage", `cache list takes no argument (got ${JSON.stringify(rest[0])}); see cache --help`);
    const entries = listCache(ctx.dir, ctx.now());
    if (ctx.output === "json") {
      ctx.writeStdout(JSON.stringify({ cacheDir: ctx.dir, entries }) + "\n");
      return 0;
    }
    ctx.writeStdout(formatList(ctx.dir, entries));
    return 0;
  }
  if (sub === "clear") {
    if (rest.length > 1) throw new InputError("bad_usage", "cache clear takes at most one REGISTRY or REGION; see cache --help");
    const filter = clearFilter(rest[0], ctx.aliases);
    const r = await clearCache(ctx.dir, filter, { now: ctx.now, all: rest.length === 0, pid: ctx.pid, isAlive: ctx.isAlive });
    const line = (e: CacheEntryInfo) => `  ${e.scope}  ${e.identity}`;
    if (ctx.output === "json") {
      ctx.writeStdout(JSON.stringify({ cacheDir: ctx.dir, removed: r.removed, busy: r.busy }) + "\n");
    } else {
      ctx.writeStdout(
        `removed ${r.removed.length} entr${r.removed.length === 1 ? "y" : "ies"} from ${ctx.dir}\n${r.removed.map(line).join("\n")}${r.removed.length ? "\n" : ""}`,
      );
    }
    if (r.busy.length > 0) {
      throw new UpstreamError(
        "cache_busy",
        `${r.busy.length} entr${r.busy.length === 1 ? "y was" : "ies were"} locked by a running fetch for longer than the wait; run cache clear again`,
      );
    }
    return 0;
  }
  throw new InputError(
    "bad_usage",
    sub === undefined
      ? "cache needs a subcommand: list or clear (see cache --help)"
      : `unknown cache subcommand ${JSON.stringify(sub)}: list or clear (see cache --help)`,
  );
}

function formatList(dir: string, entries: readonly CacheEntryInfo[]): string {
  if (entries.length === 0) return `token cache ${dir}: empty\n`;
  const rows = [
    ["SCOPE", "IDENTITY", "OBTAINED", "EXPIRES", "STATE"],
    ...entries.map((e) => [e.scope, e.identity, e.obtainedAt ?? "-", e.expiresAt ?? "-", e.state]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  "));
  return `token cache ${dir}: ${entries.length} entr${entries.length === 1 ? "y" : "ies"}\n${lines.join("\n")}\n`;
}
