// Bundle entry: build the real dependencies, call run(), exit once stdout is flushed. The only module that touches `process`.

import { readFile } from "node:fs/promises";
import { run } from "./run.js";
import { openTokenCache } from "./token-cache.js";

/** Network built-ins the SDK pulls in; none of them loads on a cache hit. */
const WATCHED_BUILTINS = ["http", "https", "http2", "tls"];

declare const __VERSION__: string;
const version = typeof __VERSION__ === "string" ? __VERSION__ : "dev";

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
      readFile: (p) => readFile(p),
      openCache: ({ config, log, signal }) => openTokenCache({ dir: config.cacheDir, log, signal, now: () => new Date() }),
      loadedBuiltins: () => {
        const list = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
        return WATCHED_BUILTINS.filter((m) => list.includes(`NativeModule ${m}`));
      },
      // import() of a bundled module stays lazy: the SDK is evaluated only when a token must be fetched.
      createFetcher: async (ctx) => (await import("./aws/fetch-token.js")).createTokenFetcher({ ...ctx, env: process.env, now: () => new Date() }),
    },
  );
  // Exit only after stdout has drained (a pipe write can be asynchronous), and without waiting for
  // stdin or sockets: the kubelet waits for us to exit.
  process.exitCode = code;
  process.stdout.write("", () => process.exit(code));
}

void main();
