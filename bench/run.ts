// `npm run bench`: ours, the trivial SEA and the official Go plugin side by side, interleaved in one
// run against the same fake ECR served over HTTPS with a test CA. Prints figures; asserts nothing
// (these machines are noisy and shared).

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAws, fakeAwsEnv, TEST_CA_FILE, TEST_SERVER_TLS } from "../test/helpers/fake-aws.ts";
import { BUNDLE_FILES, chooseTrustStore, describeTrustStore, nodeTrustProbe } from "../src/aws/trust.ts";
import { BINARY, request } from "../test/helpers/run-binary.ts";
import { GO_PLUGIN_VERSION, goPlugin } from "./go-plugin.ts";
import { median, startMeasurer, type Measured } from "./measure.ts";
import { storm, stormImages } from "./storm.ts";

const TRIVIAL = fileURLToPath(new URL("../dist/bench/trivial-sea", import.meta.url));
/** The trivial SEA plus one bare HTTPS POST to the fake (bench/trivial/https-post.ts): Node's own floor for a cold run's network part. */
const HTTPS_POST = fileURLToPath(new URL("../dist/bench/https-post-sea", import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
/**
 * Optional: another build of ours (e.g. an older commit's dist/ecr-credential-provider) run cold in
 * the same interleaved rounds, so a change to the cold path is measured side by side, not across runs.
 */
const BASELINE = process.env.BENCH_BASELINE;
/**
 * The machine the cold-path target was set on (issue 14): the trivial SEA took 20 ms of CPU there and
 * the Go plugin 12-14 ms per run. Printed beside this machine's figures, never used to assert.
 */
const TARGET_MACHINE = { trivialCpuMs: 20, goCpuMs: 13 };
const STORM = 50;
const LATENCY_MS = 50;
/** The test CA that signed the fake's certificate for 127.0.0.1 (test/fixtures/rolesanywhere/pki/README.md). */
const CA = TEST_CA_FILE;

for (const f of [BINARY, TRIVIAL, HTTPS_POST, ...(BASELINE ? [BASELINE] : [])]) {
  if (!existsSync(f)) {
    console.error(`bench: ${f} is missing; run: node build.mjs --host-only --with-trivial`);
    process.exit(1);
  }
}
const measurer = await startMeasurer();
if (!measurer) {
  console.error("bench: python3 is needed to measure CPU and peak RSS of each run (os.wait4)");
  process.exit(1);
}
const go = goPlugin();

const fake = await startFakeAws({
  latencyMs: LATENCY_MS,
  tls: TEST_SERVER_TLS(),
});
const scratch = mkdtempSync(join(tmpdir(), "ecr-bench-"));
try {
  // Every run gets the same environment shape. Ours trusts the test CA through NODE_EXTRA_CA_CERTS,
  // the Go plugin through SSL_CERT_FILE; the trivial SEA gets NODE_EXTRA_CA_CERTS too, so "beyond
  // the trivial executable" does not count what the variable itself costs at start-up.
  const base = { ...fakeAwsEnv(fake), NODE_EXTRA_CA_CERTS: CA };
  const goEnv = { ...fakeAwsEnv(fake), SSL_CERT_FILE: CA, HOME: scratch };
  const warmEnv = { ...base, ECR_CREDENTIAL_PROVIDER_CACHE_DIR: join(scratch, "warm") };
  const coldEnv = { ...base, ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1" };
  // A node whose store is one bundle file and no hashed directory (update-ca-trust without directory-hash): this machine's bundle
  // plus the test CA as SSL_CERT_FILE, parsed whole by every cold run, as the bundle is there.
  const systemBundle = BUNDLE_FILES.find((f) => nodeTrustProbe.isFile(f));
  const bundleFile = join(scratch, "bundle.pem");
  if (systemBundle) writeFileSync(bundleFile, `${readFileSync(systemBundle, "utf8")}\n${readFileSync(CA, "utf8")}`);
  const coldBundleEnv = { ...coldEnv, SSL_CERT_FILE: bundleFile };
  const req = request("123456789012.dkr.ecr.us-east-1.amazonaws.com/app");

  const check = (what: string, m: Measured): Measured => {
    if (m.code !== 0) throw new Error(`${what} exited ${m.code}: ${m.stderr.trim()}`);
    return m;
  };
  check("warm-up", await measurer.run([BINARY], warmEnv, req));
  if ("path" in go) check("Go plugin", await measurer.run([go.path], goEnv, req));

  // Interleave every kind in each round, rotating the order, so machine noise hits all alike.
  const runs: Record<"trivial" | "httpsPost" | "warm" | "cold" | "coldBundle" | "go" | "baseline", Measured[]> = {
    trivial: [],
    httpsPost: [],
    warm: [],
    cold: [],
    coldBundle: [],
    go: [],
    baseline: [],
  };
  const kinds = (["trivial", "httpsPost", "warm", "cold", "coldBundle", "go", "baseline"] as const).filter(
    (k) => (k !== "go" || "path" in go) && (k !== "baseline" || BASELINE) && (k !== "coldBundle" || systemBundle),
  );
  const argv = {
    trivial: [TRIVIAL],
    httpsPost: [HTTPS_POST],
    warm: [BINARY],
    cold: [BINARY],
    coldBundle: [BINARY],
    go: "path" in go ? [go.path] : [],
    baseline: BASELINE ? [BASELINE] : [],
  };
  const env = { trivial: base, httpsPost: base, warm: warmEnv, cold: coldEnv, coldBundle: coldBundleEnv, go: goEnv, baseline: coldEnv };
  for (let i = 0; i < ROUNDS; i++) {
    for (let j = 0; j < kinds.length; j++) {
      const k = kinds[(i + j) % kinds.length]!;
      runs[k].push(check(k, await measurer.run(argv[k], env[k], req)));
    }
  }

  // Boot storm: 50 concurrent runs, 50 images over 10 registries in 2 regions, empty cache.
  const images = stormImages(STORM, 10, ["us-east-1", "eu-west-1"]);
  const oursStorm = await storm(BINARY, { ...base, ECR_CREDENTIAL_PROVIDER_CACHE_DIR: join(scratch, "storm") }, images, fake);
  const goStorm = "path" in go ? await storm(go.path, goEnv, images, fake) : undefined;

  const med = (k: keyof typeof runs, f: (m: Measured) => number) => median(runs[k].map(f));
  const wall = (m: Measured) => m.wallMs;
  const cpu = (m: Measured) => m.cpuMs;
  const rss = (m: Measured) => m.maxRssKiB / 1024;
  const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
  const ratio = (a: number, b: number | undefined) => (b === undefined || !Number.isFinite(b) || b === 0 ? "n/a" : (a / b).toFixed(2));
  const hasGo = "path" in go;
  const g = (k: (m: Measured) => number) => (hasGo ? med("go", k) : undefined);
  const rows: [string, number, number | undefined, string][] = [
    ["cold run (empty cache), wall ms", med("cold", wall), g(wall), ""],
    ["warm run (our cache hit; Go has no cache), wall ms", med("warm", wall), g(wall), ""],
    ["CPU per cold run, ms", med("cold", cpu), g(cpu), ""],
    ["CPU per warm run, ms", med("warm", cpu), g(cpu), ""],
    ["peak RSS, cold, MiB", med("cold", rss), g(rss), ""],
    [`storm (${STORM} runs, 10 registries, 2 regions): ECR calls`, oursStorm.ecrCalls, goStorm?.ecrCalls, ""],
    ["same storm: wall ms", oursStorm.wallMs, goStorm?.wallMs, ""],
    ["executable, MB", statSync(BINARY).size / 1e6, hasGo ? statSync(go.path).size / 1e6 : undefined, ""],
  ];
  console.log(
    `ecr-credential-provider vs the Go plugin ${GO_PLUGIN_VERSION} (${ROUNDS} interleaved rounds, medians; fake ECR over HTTPS with a test CA, ${LATENCY_MS} ms latency)`,
  );
  if (!hasGo) console.log(`Go plugin column skipped: ${go.skipped}`);
  console.log(`| | ours | Go plugin | ours/Go |\n|---|---|---|---|`);
  for (const [name, ours, theirs] of rows) console.log(`| ${name} | ${f1(ours)} | ${theirs === undefined ? "n/a" : f1(theirs)} | ${ratio(ours, theirs)} |`);
  if (oursStorm.failures || goStorm?.failures)
    console.log(
      `storm failures: ours ${oursStorm.failures}${goStorm ? `, Go ${goStorm.failures}` : ""}${oursStorm.firstError ? `; ours: ${oursStorm.firstError}` : ""}${goStorm?.firstError ? `; Go: ${goStorm.firstError.slice(-300)}` : ""}`,
    );
  const t = med("trivial", wall);
  const tc = med("trivial", cpu);
  console.log(
    `\nagainst the trivial SEA (same pipeline, prints a fixed answer; median wall ${f1(t)} ms, CPU ${f1(tc)} ms, RSS ${f1(med("trivial", rss))} MiB):`,
  );
  console.log(`  warm run wall / trivial = ${ratio(med("warm", wall), t)} (target ≤ 1.15)`);
  console.log(`  cold run CPU beyond the trivial SEA = ${f1(med("cold", cpu) - tc)} ms (target ≤ 45 ms over HTTPS)`);
  console.log(
    `  of which Node's own HTTPS (a SEA making one bare POST, no SDK: CPU ${f1(med("httpsPost", cpu))} ms) = ${f1(med("httpsPost", cpu) - tc)} ms; SDK and ours = ${f1(med("cold", cpu) - med("httpsPost", cpu))} ms`,
  );
  const store = describeTrustStore(chooseTrustStore({}));
  console.log(`  (this machine's trust store: ${Object.values(store).join(" ")})`);
  if (systemBundle)
    console.log(
      `  cold run on a node whose store is one bundle file and no hashed directory (here ${systemBundle} + the test CA as SSL_CERT_FILE): CPU beyond the trivial SEA = ${f1(med("coldBundle", cpu) - tc)} ms`,
    );
  console.log(`  warm run CPU beyond the trivial SEA = ${f1(med("warm", cpu) - tc)} ms`);
  if (BASELINE) {
    const b = med("baseline", cpu);
    console.log(
      `  baseline build (${BASELINE}), cold: CPU ${f1(b)} ms, beyond the trivial SEA ${f1(b - tc)} ms; ours/baseline beyond trivial = ${ratio(med("cold", cpu) - tc, b - tc)}${systemBundle ? `, with a bundle-file store ${ratio(med("coldBundle", cpu) - tc, b - tc)}` : ""}` +
        ` (builds before the trust-store change parse Node's bundled roots on every cold run; ours reads this node's store, see "trust store" in --log-level=debug)`,
    );
  }
  const scale = tc / TARGET_MACHINE.trivialCpuMs;
  console.log(
    `\nthis machine against the one the cold target was set on (trivial SEA ${TARGET_MACHINE.trivialCpuMs} ms CPU there, Go plugin ~${TARGET_MACHINE.goCpuMs} ms):` +
      `\n  trivial SEA ${f1(scale)}x${hasGo ? `, Go plugin ${f1(med("go", cpu) / TARGET_MACHINE.goCpuMs)}x` : ""} as much CPU here;` +
      ` cold run CPU beyond the trivial SEA scaled by the trivial SEA = ${f1((med("cold", cpu) - tc) / scale)} ms there (target ≤ 45 ms), of which Node's own HTTPS ${f1((med("httpsPost", cpu) - tc) / scale)} ms`,
  );
} finally {
  measurer.close();
  await fake.close();
  rmSync(scratch, { recursive: true, force: true });
}
