// `npm run bench`: start-up and boot-storm figures, each measured side by side in one run against the same fake ECR.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAws, fakeAwsEnv } from "../test/helpers/fake-aws.ts";
import { BINARY, request } from "../test/helpers/run-binary.ts";
import { storm, stormImages } from "./storm.ts";

const TRIVIAL = fileURLToPath(new URL("../dist/bench/trivial-sea", import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const STORM = 50;
const LATENCY_MS = 50;

for (const f of [BINARY, TRIVIAL]) {
  if (!existsSync(f)) {
    console.error(`bench: ${f} is missing; run: node build.mjs --host-only --with-trivial`);
    process.exit(1);
  }
}
// NODE_EXTRA_CA_CERTS adds ~50 ms to every Node start (docs/build-and-release.md): measure without it.
delete process.env.NODE_EXTRA_CA_CERTS;

const fake = await startFakeAws({ latencyMs: LATENCY_MS });
const base = fakeAwsEnv(fake);
const newCache = () => join(mkdtempSync(join(tmpdir(), "ecr-bench-")), "cache");

/** One run: wall time in ms (spawn → exit), checked for success. */
function timed(bin: string, env: Record<string, string>, stdin: string, args: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const p = spawn(bin, args, { env, stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${bin} exited ${code}: ${err}`));
    });
    p.stdin.end(stdin);
  });
}

/**
 * Peak RSS (KiB) of one run, via getrusage(RUSAGE_CHILDREN) in a python3 wrapper (Node exposes no
 * child rusage). Asynchronous: the fake ECR lives in this process and must keep answering.
 */
function peakRssKiB(bin: string, env: Record<string, string>, stdin: string): Promise<number | undefined> {
  const py = "import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
  return new Promise((resolve) => {
    const p = spawn("python3", ["-c", py, bin], { env, stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("error", () => resolve(undefined));
    p.on("close", (code) => resolve(code === 0 ? Number(out.trim()) : undefined));
    p.stdin.end(stdin);
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const image = (i: number, region: string): string => `${String(100000000000 + i).padStart(12, "0")}.dkr.ecr.${region}.amazonaws.com/app`;

// Warm cache shared by the warm runs.
const warmEnv = { ...base, ECR_CREDENTIAL_PROVIDER_CACHE_DIR: newCache() };
await timed(BINARY, warmEnv, request(image(1, "us-east-1")));

// (a)+(b): interleave trivial, warm and cold in every round so machine noise hits all three alike.
const t: number[] = [];
const warm: number[] = [];
const cold: number[] = [];
const coldEnv = { ...base, ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1" };
for (let i = 0; i < ROUNDS; i++) {
  t.push(await timed(TRIVIAL, base, request(image(1, "us-east-1"))));
  warm.push(await timed(BINARY, warmEnv, request(image(1, "us-east-1"))));
  cold.push(await timed(BINARY, coldEnv, request(image(1, "us-east-1"))));
}

// (c): boot storm, 50 concurrent runs, 50 images across 10 registries in 2 regions, empty cache; then the same with --no-cache.
const images = stormImages(STORM, 10, ["us-east-1", "eu-west-1"]);
const cachedStorm = await storm(BINARY, { ...base, ECR_CREDENTIAL_PROVIDER_CACHE_DIR: newCache() }, images, fake);
const noCacheStorm = await storm(BINARY, { ...base, ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1" }, images, fake);
const stormCached = { calls: cachedStorm.ecrCalls, ms: cachedStorm.wallMs, failed: cachedStorm.failures };
const stormNoCache = { calls: noCacheStorm.ecrCalls, ms: noCacheStorm.wallMs, failed: noCacheStorm.failures };

// (d): peak RSS and size.
const rssTrivial = await peakRssKiB(TRIVIAL, base, request(image(1, "us-east-1")));
const rssWarm = await peakRssKiB(BINARY, warmEnv, request(image(1, "us-east-1")));
const rssCold = await peakRssKiB(BINARY, coldEnv, request(image(1, "us-east-1")));
const size = statSync(BINARY).size;
await fake.close();

const mt = median(t);
const mw = median(warm);
const mc = median(cold);
const f1 = (n: number) => n.toFixed(1);
const mib = (k: number | undefined) => (k === undefined ? "n/a" : `${(k / 1024).toFixed(1)} MiB`);
console.log(`ecr-credential-provider benchmark (${ROUNDS} interleaved rounds, fake ECR with ${LATENCY_MS} ms latency, NODE_EXTRA_CA_CERTS unset)`);
console.log(`executable: ${BINARY}`);
console.log(`(a) warm run (cache hit)      median ${f1(mw)} ms   trivial SEA median ${f1(mt)} ms   ratio ${(mw / mt).toFixed(2)} (target ≤ 1.15)`);
console.log(`(b) cold run (creds + 1 call)  median ${f1(mc)} ms   trivial SEA median ${f1(mt)} ms   ratio ${(mc / mt).toFixed(2)} (target ≤ 2.0)`);
console.log(`(c) boot storm, ${STORM} runs / 10 registries / 2 regions: cache ${stormCached.calls} ECR calls in ${f1(stormCached.ms)} ms; --no-cache ${stormNoCache.calls} calls in ${f1(stormNoCache.ms)} ms`);
console.log(`(d) peak RSS: warm ${mib(rssWarm)}, cold ${mib(rssCold)}, trivial ${mib(rssTrivial)}; executable ${(size / 1e6).toFixed(1)} MB`);
console.log(
  `ratios: warm/trivial=${(mw / mt).toFixed(2)} cold/trivial=${(mc / mt).toFixed(2)} storm calls cache/no-cache=${stormCached.calls}/${stormNoCache.calls} storm time cache/no-cache=${(stormCached.ms / stormNoCache.ms).toFixed(2)}`,
);
