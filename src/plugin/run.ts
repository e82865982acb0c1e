// The harness: argv/env → config → router (plugin/router.ts) → exit code; every failure → one stderr line (and check's JSON).

import { readConfig, type Config } from "../core/config.ts";
import { EXIT, PluginError } from "../core/errors.ts";
import { createLogger, type Logger } from "../core/log.ts";
import type { FetchToken, TokenStore } from "../core/provider.ts";
import type { ByteSource } from "./request.ts";
import { route } from "./router.ts";

export type { ByteSource } from "./request.ts";

export interface RunIo {
  stdin: ByteSource;
  writeStdout: (s: string) => void;
  writeStderr: (s: string) => void;
}

/** Everything with side effects, injected by main.ts (or a test). */
export interface RunDeps {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  now: () => Date;
  version: string;
  /** Reads a small file (Roles Anywhere certificate, for its cache identity). */
  readFileSync: (path: string) => Buffer;
  /** Builds the AWS side; main.ts loads it lazily so a cache hit never evaluates the SDK. */
  createFetcher: (ctx: { config: Config; log: Logger; signal: AbortSignal }) => Promise<FetchToken>;
  /** Opens the token cache, or undefined to run without one. */
  openCache?: (ctx: { config: Config; log: Logger; signal: AbortSignal }) => Promise<TokenStore | undefined>;
  /**
   * What this run loaded, for the debug "modules" line: the network built-ins (a cache hit loads
   * none) and whether V8 accepted the lazy half's code cache.
   */
  loadReport?: () => Record<string, string>;
  /** Runs `doctor`; loaded lazily. */
  runDoctor?: (args: readonly string[], ctx: { config: Config; log: Logger; writeStdout: (s: string) => void }) => Promise<number>;
}

/** The one stderr line for a failure: `ecr-credential-provider: <code>: <message>`. */
export function failureLine(err: unknown, log: Logger): string {
  if (err instanceof PluginError) return log.redact(`ecr-credential-provider: ${err.code}: ${err.message}`).replace(/\n/g, " ") + "\n";
  const msg = err instanceof Error ? err.message : String(err);
  return log.redact(`ecr-credential-provider: internal: unexpected error: ${msg}`).replace(/\n/g, " ") + "\n";
}

/**
 * Run one invocation. Returns the exit code; writes at most one JSON object to stdout (plugin
 * mode) and one line per failure to stderr. Never throws.
 */
export async function run(io: RunIo, deps: RunDeps): Promise<number> {
  let log = createLogger({ level: "warn", format: "text", write: io.writeStderr, now: deps.now });
  /** `check --output=json` also reports a failure on stdout, with what was known by then. */
  let failureJson: ((err: unknown) => Record<string, unknown>) | undefined;
  let awsSdkLoaded = false;
  try {
    const config = readConfig(deps.argv, deps.env);
    log = createLogger({ level: config.logLevel, format: config.logFormat, write: io.writeStderr, now: deps.now });
    return await route({
      ...deps,
      config,
      log,
      stdin: io.stdin,
      writeStdout: io.writeStdout,
      onFailureJson: (report) => (failureJson = report),
      onFetcherLoaded: () => (awsSdkLoaded = true),
    });
  } catch (err) {
    io.writeStderr(failureLine(err, log));
    if (failureJson) io.writeStdout(log.redact(JSON.stringify(failureJson(err))) + "\n");
    const stack = err instanceof Error ? (err.stack ?? "") : "";
    if (log.level === "debug" && stack) log.debug("stack", { stack: stack.split("\n").slice(0, 8).join(" | ") });
    return err instanceof PluginError ? err.exitCode : EXIT.internal;
  } finally {
    // On success and failure alike: what this run loaded (a cache hit loads no SDK, no network module).
    log.debug("modules", { awsSdkLoaded, ...deps.loadReport?.() });
  }
}
