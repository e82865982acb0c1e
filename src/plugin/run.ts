// The harness: argv/env → config → router (plugin/router.ts) → exit code; every failure → one stderr line (and check's JSON).

import { ENV_PREFIX, readConfig, type Config, type HelpTopic } from "../core/config.ts";
import { EXIT, PluginError } from "../core/errors.ts";
import { createLogger, type Logger } from "../core/log.ts";
import type { FetchToken, TokenStore } from "../core/provider.ts";
import type { AliasMap } from "../core/registry.ts";
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
  /** process.platform: "win32" picks Windows defaults (cache under %ProgramData%). Default linux. */
  platform?: NodeJS.Platform;
  now: () => Date;
  version: string;
  /** Reads a small file (Roles Anywhere certificate, for its cache identity). */
  readFileSync: (path: string) => Buffer;
  /** Whether stdin is a terminal: kubelet mode then says what it expects instead of waiting. */
  stdinIsTTY?: boolean;
  /** Builds the AWS side; main.ts loads it lazily so a cache hit never evaluates the SDK. */
  createFetcher: (ctx: { config: Config; log: Logger; signal: AbortSignal; version: string }) => Promise<FetchToken>;
  /** Opens the token cache, or undefined to run without one. */
  openCache?: (ctx: { config: Config; log: Logger; signal: AbortSignal }) => Promise<TokenStore | undefined>;
  /**
   * What this run loaded, for the debug "modules" line: the network built-ins (a cache hit loads
   * none) and whether V8 accepted the lazy half's code cache.
   */
  loadReport?: () => Record<string, string>;
  /** The --help text (cli/help.ts, in the lazy half). */
  helpText?: (topic?: HelpTopic) => Promise<string>;
  /** Runs `cache list|clear`; loaded lazily. */
  runCache?: (args: readonly string[], ctx: { config: Config; aliases: AliasMap; writeStdout: (s: string) => void }) => Promise<number>;
  /** Runs `doctor`; loaded lazily. */
  runDoctor?: (args: readonly string[], ctx: { config: Config; log: Logger; writeStdout: (s: string) => void }) => Promise<number>;
}

/**
 * The one stderr line for a failure: `ecr-credential-provider: <code>: <message>`, or with
 * `--log-format=json` a JSON object like every other line, with `code` and `exitCode`.
 */
export function failureLine(err: unknown, log: Logger, format: "text" | "json" = "text", now: Date = new Date()): string {
  const code = err instanceof PluginError ? err.code : "internal";
  const exitCode = err instanceof PluginError ? err.exitCode : EXIT.internal;
  const msg = err instanceof PluginError ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
  if (format === "json") return log.redact(JSON.stringify({ time: now.toISOString(), level: "error", msg, code, exitCode })) + "\n";
  return log.redact(`ecr-credential-provider: ${code}: ${msg}`).replace(/\n/g, " ") + "\n";
}

/** The log format asked for, read leniently: the failure may be that the rest of the command line is wrong. */
export function requestedLogFormat(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): "text" | "json" {
  let v = env[`${ENV_PREFIX}LOG_FORMAT`];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--log-format") v = argv[i + 1];
    else if (argv[i]!.startsWith("--log-format=")) v = argv[i]!.slice("--log-format=".length);
  }
  return v === "json" ? "json" : "text";
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
    const config = readConfig(deps.argv, deps.env, deps.platform);
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
    io.writeStderr(failureLine(err, log, requestedLogFormat(deps.argv, deps.env), deps.now()));
    if (failureJson) io.writeStdout(log.redact(JSON.stringify(failureJson(err))) + "\n");
    const stack = err instanceof Error ? (err.stack ?? "") : "";
    if (log.level === "debug" && stack) log.debug("stack", { stack: stack.split("\n").slice(0, 8).join(" | ") });
    return err instanceof PluginError ? err.exitCode : EXIT.internal;
  } finally {
    // On success and failure alike: what this run loaded (a cache hit loads no SDK, no network module).
    log.debug("modules", { awsSdkLoaded, ...deps.loadReport?.() });
  }
}
