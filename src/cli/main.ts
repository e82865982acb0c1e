// Bundle entry: build the real dependencies, call run(), exit once stdout is flushed. The only module that touches `process`.

import { readFileSync } from "node:fs";
import { lazyCodeCacheRejected, loadLazy } from "../bootstrap/load-lazy.ts";
import { run } from "../plugin/run.ts";
import { openTokenCache } from "../cache/token-cache.ts";

/** Network built-ins the SDK pulls in; none of them loads on a cache hit. */
const WATCHED_BUILTINS = ["http", "https", "http2", "tls"];

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

/** Whether a process exists (a lock holder that was SIGKILLed does not): kill(pid, 0); EPERM means it exists as another user. */
function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function main(): Promise<void> {
  const code = await run(
    {
      stdin: process.stdin,
      writeStdout: (s) => process.stdout.write(s),
      writeStderr: (s) => process.stderr.write(s),
    },
    {
      argv: process.argv.slice(2),
      env: process.env,
      now: () => new Date(),
      version,
      readFileSync: (p) => readFileSync(p),
      openCache: ({ config, log, signal }) =>
        openTokenCache({ dir: config.cacheDir, log, signal, now: () => new Date(), pid: process.pid, isAlive: processIsAlive, random: Math.random }),
      loadReport: (): Record<string, string> => {
        const list = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
        const builtins = WATCHED_BUILTINS.filter((m) => list.includes(`NativeModule ${m}`)).join(",");
        return lazyCodeCacheRejected === undefined ? { builtins } : { builtins, lazyCodeCache: lazyCodeCacheRejected ? "rejected" : "accepted" };
      },
      // The AWS side lives in the lazy half: evaluated only when a token must be fetched.
      createFetcher: async (ctx) => (await loadLazy()).wireTokenFetcher({ ...ctx, now: () => new Date() }),
      runDoctor: async (args, { writeStdout }) => {
        const lazy = await (await loadLazy()).loadDoctor();
        const deps = lazy.createNodeDoctorDeps({
          env: process.env,
          executablePath: process.execPath,
          write: (line) => writeStdout(line + "\n"),
          probe: (image, provider) => lazy.probeImage(image, provider, process.env, runSelf),
        });
        return lazy.runDoctor([...args], deps);
      },
    },
  );
  // Exit only after stdout has drained (a pipe write can be asynchronous), and without waiting for
  // stdin or sockets: the kubelet waits for us to exit.
  process.exitCode = code;
  process.stdout.write("", () => process.exit(code));
}

void main();
