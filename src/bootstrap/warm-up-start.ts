// Build time only, run by the TARGET's node (build.mjs bundles it to warm-up-start.cjs): run the start-up bundle through the
// wrapper sea-main.ts uses, as a plain process (its loader reads lazy.cjs beside it), and write V8's code cache for it at exit,
// so the cache holds the functions the run compiled, not only the top-level code.
// Usage: node warm-up-start.cjs <ref|cold|warm> <bundle.cjs> <work-dir> <out.cache> [<in.cache>]
//   ref   compile only (the default-flags reference build.mjs takes the flag hash from)
//   cold  a cache miss: one token fetch from a loopback fake ECR, written to the empty token cache in <work-dir>
//   warm  a cache hit in the token cache the cold run filled; give it the cold run's code cache, so the result holds both paths
// The request comes on stdin, as the kubelet sends it.

import * as fs from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import { fakeEcr } from "./fake-ecr.ts";
import { compileStart, runStart } from "./wrapper.ts";

const fail = (msg: string): never => {
  process.stderr.write(`warm-up-start: ${msg}\n`);
  process.exit(1);
};

/** The endpoint is part of the token cache's key: the warm run must name the cold run's fake (it calls nobody: a call would fail). */
async function endpoint(mode: string, workDir: string): Promise<{ url: string; calls: () => number }> {
  const file = path.join(workDir, "ecr-endpoint");
  if (mode === "warm") return { url: fs.readFileSync(file, "utf8"), calls: () => 0 };
  const ecr = await fakeEcr();
  fs.writeFileSync(file, ecr.url);
  return ecr;
}

async function main(mode: string, bundleFile: string, workDir: string, outFile: string, inFile: string | undefined): Promise<void> {
  if (!["ref", "cold", "warm"].includes(mode)) fail(`unknown mode ${mode}`);
  const cachedData = inFile ? fs.readFileSync(inFile) : undefined;
  const { script, codeCache } = compileStart(vm, fs.readFileSync(bundleFile, "utf8"), bundleFile, cachedData);
  if (codeCache === "rejected") fail(`V8 rejected ${inFile} for ${bundleFile}`);
  if (mode === "ref") return fs.writeFileSync(outFile, script.createCachedData());
  const ecr = await endpoint(mode, workDir);
  // The default chain reads its credentials from the environment, as in a real run (the same as warm-up.ts).
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: "AKIDWARMUP",
    AWS_SECRET_ACCESS_KEY: "warm-up",
    AWS_ENDPOINT_URL_ECR: ecr.url,
    ECR_CREDENTIAL_PROVIDER_CACHE_DIR: path.join(workDir, "token-cache"),
  });
  process.argv = [process.argv[0]!, bundleFile];
  // The bundle ends the process itself (process.exit once stdout is flushed); 'exit' listeners run first in either case.
  process.on("exit", (code) => {
    const want = mode === "cold" ? 1 : 0;
    if (code !== 0 || ecr.calls() !== want) {
      process.stderr.write(`warm-up-start: the ${mode} run exited ${code} after ${ecr.calls()} ECR call(s), expected 0 and ${want}\n`);
      process.exitCode = 1;
      return;
    }
    fs.writeFileSync(outFile, script.createCachedData());
  });
  runStart(script, { exports: {} }, require, bundleFile, path.dirname(bundleFile), undefined);
}

const [mode, bundleFile, workDir, outFile, inFile] = process.argv.slice(2);
main(mode!, bundleFile!, workDir!, outFile!, inFile).catch((err: unknown) => fail(`${err instanceof Error ? err.stack : String(err)}`));
