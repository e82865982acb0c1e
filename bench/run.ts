// `npm run bench`: start-up and boot-storm figures, each measured side by side in one run against the same fake ECR.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAws, fakeAwsEnv } from "../test/helpers/fake-aws.ts";
import { BINARY, request } from "../test/helpers/run-binary.ts";

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
      code === 0 ? resolve(ms) : reject(new Error(`${bin} exited ${code}: ${err}`));
    });
    p.stdin.end(stdin);
  });
}

/** Peak RSS (KiB) of one run, via getrusage(RUSAGE_CHILDREN) in a python3 wrapper (Node exposes no child rusage). */
function peakRssKiB(bin: string, env: Record<string, string>, stdin: string): number | undefined {
  const py = "import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
  const r = spawnSync("python3", ["-c", py, bin], { env, input: stdin, encoding: "utf8" });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const image = (i: number, region: string) => `${String(100000000000 + i).padStart(12, "0")}.dkr.ecr.${region}.amazonaws.com/app`;

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
async function storm(extraEnv: Record<string, string>): Promise<{ calls: number; ms: number }> {
  const before = fake.ecrCalls().length;
  const env = { ...base, ...extraEnv };
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: STORM }, (_, i) => {
      const region = i % 2 ? "eu-west-1" : "us-east-1";
      const registry = String(100000000000 + (i % 10)).padStart(12, "0");
      return timed(BINARY, env, request(`${registry}.dkr.ecr.${region}.amazonaws.com/image-${i}`));
    }),
  );
  return { calls: fake.ecrCalls().length - before, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}
const stormCached = await storm({ ECR_CREDENTIAL_PROVIDER_CACHE_DIR: newCache() });
const stormNoCache = await storm({ ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1" });

// (d): peak RSS and size.
const rssTrivial = peakRssKiB(TRIVIAL, base, request(image(1, "us-east-1")));
const rssWarm = peakRssKiB(BINARY, warmEnv, request(image(1, "us-east-1")));
const rssCold = peakRssKiB(BINARY, coldEnv, request(image(1, "us-east-1")));
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
