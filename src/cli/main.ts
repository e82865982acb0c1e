// Bundle entry: build the real dependencies, call run(), exit once stdout is flushed. The only module that touches `process`.

import { readFileSync } from "node:fs";
import { codeCacheReport, loadLazy } from "../bootstrap/load-lazy.ts";
import { failureLine, requestedLogFormat, run } from "../plugin/run.ts";
import { EXIT, PluginError } from "../core/errors.ts";
import { createLogger } from "../core/log.ts";
import { lockWaitFor, openTokenCache } from "../cache/token-cache.ts";
import { fdStdin, fdWriter, stdinIsTerminal } from "./stdio.ts";

/**
 * Built-ins the debug "modules" line reports, as label → Node's module name: the network ones a
 * cache miss needs (crypto, tls, http, https and under them net and stream; none loads on a cache
 * hit, whose stdio goes through fs: cli/stdio.ts), tty (only a terminal on stdin loads it) and the
 * ones no plugin run needs (web streams, zlib, fs/promises, Web Crypto, http2, fetch, workers,
 * child processes; the AWS SDK would load several of them: test/e2e/cold-path.test.ts, build.mjs
 * SDK_SHIMS).
 */
const WATCHED_BUILTINS: readonly (readonly [string, string])[] = [
  ["crypto", "crypto"],
  ["tls", "tls"],
  ["http", "http"],
  ["https", "https"],
  ["net", "net"],
  ["stream", "stream"],
  ["tty", "tty"],
  ["http2", "http2"],
  ["zlib", "zlib"],
  ["fs/promises", "fs/promises"],
  ["webcrypto", "internal/crypto/webcrypto"],
  ["webstreams", "internal/webstreams/readablestream"],
  ["fetch", "internal/deps/undici/undici"],
  ["worker_threads", "worker_threads"],
  ["child_process", "child_process"],
];

declare const __VERSION__: string;
const version = typeof __VERSION__ === "string" ? __VERSION__ : "dev";

/** Run this executable again (doctor's probe): the same binary, a clean environment, no stdin. */
async function runSelf(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Loaded here, not at start-up: only doctor needs it.
  const { spawn } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** On Windows the cache is protected with icacls (by full path: never whatever PATH finds first). */
function windowsCacheOptions(): { windowsIcacls?: string } {
  if (process.platform !== "win32") return {};
  const systemRoot = (process.env["SystemRoot"] || "C:\\Windows").replace(/\\+$/, "");
  return { windowsIcacls: `${systemRoot}\\System32\\icacls.exe` };
}

/** Whether a process exists (a lock holder that was SIGKILLed does not): kill(pid, 0); EPERM means it exists as another user. */
function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The node's trust store for the lazy half (aws/trust.ts): the Linux executable runs with --use-openssl-ca (build.mjs),
 * and OpenSSL finds the store through SSL_CERT_FILE / SSL_CERT_DIR, set in this process before its first TLS context;
 * the Windows executable runs with --use-system-ca.
 */
function trustSeam(): { opensslCa: boolean; systemCa: boolean; setEnv: (name: string, value: string) => void } {
  return {
    opensslCa: process.execArgv.includes("--use-openssl-ca"),
    systemCa: process.execArgv.includes("--use-system-ca"),
    setEnv: (name, value) => {
      process.env[name] = value;
    },
  };
}

/** The debug "modules" line's fields: which watched built-ins this run loaded, and whether V8 took each half's code cache. */
function loadReport(): Record<string, string> {
  const loaded = new Set((process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? []);
  const builtins = WATCHED_BUILTINS.filter(([, m]) => loaded.has(`NativeModule ${m}`))
    .map(([label]) => label)
    .join(",");
  return { builtins, ...codeCacheReport() };
}

/** The stderr line when stdout could not be written: the shape of every failure line (JSON under --log-format=json). */
function stdoutClosedLine(brokenBy: string | undefined): string {
  const format = requestedLogFormat(process.argv.slice(2), process.env);
  const why = brokenBy === "EPIPE" ? "the reader went away" : "the descriptor is unusable";
  const err = new PluginError("stdout_closed", EXIT.internal, `cannot write to stdout (${brokenBy}): ${why}`);
  return failureLine(err, createLogger({ level: "error", format, write: () => undefined, now: () => new Date() }), format);
}

async function main(): Promise<void> {
  // stdio through the descriptors (cli/stdio.ts); process.stdin/stdout/stderr only as fallbacks.
  const stdout = fdWriter(1, () => process.stdout);
  const stderr = fdWriter(2, () => process.stderr);
  const code = await run(
    {
      stdin: fdStdin({ stream: () => process.stdin }),
      writeStdout: (s) => stdout.write(s),
      writeStderr: (s) => stderr.write(s),
    },
    {
      argv: process.argv.slice(2),
      env: process.env,
      platform: process.platform,
      now: () => new Date(),
      version,
      stdinIsTTY: await stdinIsTerminal(),
      readFileSync: (p) => readFileSync(p),
      openCache: ({ config, log, signal }) =>
        openTokenCache({
          dir: config.cacheDir,
          log,
          signal,
          now: () => new Date(),
          pid: process.pid,
          isAlive: processIsAlive,
          random: Math.random,
          lockWaitMs: lockWaitFor(config.timeoutMs),
          ...windowsCacheOptions(),
        }),
      loadReport,
      // The AWS side lives in the lazy half: evaluated only when a token must be fetched.
      createFetcher: async (ctx) => (await loadLazy()).wireTokenFetcher({ ...ctx, now: () => new Date(), trust: trustSeam() }),
      helpText: async (topic) => (await loadLazy()).helpText(version, topic),
      runCache: async (args, { config, aliases, writeStdout }) =>
        (await (await loadLazy()).loadCacheAdmin()).runCacheCommand(args, {
          dir: config.cacheDir,
          output: config.output,
          aliases,
          now: () => new Date(),
          writeStdout,
          pid: process.pid,
          isAlive: processIsAlive,
        }),
      runDoctor: async (args, { writeStdout }) => {
        const lazy = await (await loadLazy()).loadDoctor();
        const deps = lazy.createNodeDoctorDeps({
          env: process.env,
          executablePath: process.execPath,
          platform: process.platform,
          write: (line) => writeStdout(line + "\n"),
          probe: (image, provider) => lazy.probeImage(image, provider, process.env, runSelf),
        });
        return lazy.runDoctor([...args], deps);
      },
    },
  );
  // Exit once stdout and stderr are out (at once, unless a write went to a stream), without waiting
  // for stdin or sockets: the kubelet waits for us to exit. A reader of stdout that went away (EPIPE)
  // is exit 1, as when the stream's EPIPE was an uncaught error.
  if (stdout.broken) stderr.write(stdoutClosedLine(stdout.brokenBy));
  const exitCode = stdout.broken ? EXIT.internal : code;
  process.exitCode = exitCode;
  stdout.drained(() => stderr.drained(() => process.exit(exitCode)));
}

void main();
