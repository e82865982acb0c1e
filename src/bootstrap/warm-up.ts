// Build time only, run by the TARGET's node (build.mjs bundles it to warm-up.cjs): evaluate the lazy half exactly as load-lazy.ts does,
// exercise one token fetch against a loopback stand-in (so the functions a real cache miss runs are compiled too), then write V8's code cache.
// Usage: node warm-up.cjs <lazy.cjs> <out.cache>

import * as fs from "node:fs";
import * as vm from "node:vm";
import { readConfig } from "../core/config.ts";
import * as errors from "../core/errors.ts";
import { createLogger } from "../core/log.ts";
import { fakeEcr } from "./fake-ecr.ts";
import { evaluateLazy, wrapLazySource } from "./wrapper.ts";

/** The same file name the loader gives the script (the asset name). */
const LAZY_FILENAME = "lazy.cjs";

async function main(lazyFile: string, outFile: string): Promise<void> {
  const script = new vm.Script(wrapLazySource(fs.readFileSync(lazyFile, "utf8")), { filename: LAZY_FILENAME });
  const lazy = evaluateLazy(script, require, errors);
  const ecr = await fakeEcr();
  // The default chain reads its credentials from the environment, as in a real run; Config comes from the real readConfig.
  const env = { AWS_ACCESS_KEY_ID: "AKIDWARMUP", AWS_SECRET_ACCESS_KEY: "warm-up", AWS_ENDPOINT_URL_ECR: ecr.url };
  Object.assign(process.env, env);
  // One attempt, as before: a retry would compile more functions in one build than in another, and the cache must be reproducible.
  const config = { ...readConfig(["--no-cache", "--timeout=5s", "--log-level=silent"], env), maxAttempts: 1 };
  const log = createLogger({ level: "silent", format: "text", write: () => {}, now: () => new Date(0) });
  const fetch = lazy.wireTokenFetcher({ config, log, now: () => new Date(0), signal: new AbortController().signal, version: "warm-up" });
  try {
    await fetch(
      { kind: "private", partition: "aws", region: "us-east-1", account: "123456789012", fips: false, dualstack: false },
      { source: "default-chain", description: "", identity: "" },
    );
  } finally {
    ecr.close();
  }
  fs.writeFileSync(outFile, script.createCachedData());
}

const [lazyFile, outFile] = process.argv.slice(2);
main(lazyFile!, outFile!).catch((err: unknown) => {
  process.stderr.write(`warm-up: the warm-up fetch failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
