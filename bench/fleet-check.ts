// The fleet model checked against reality at small scale: real processes (ours, each node with its
// own cache directory; the Go plugin), a kubelet-like driver in real time, and the fake AWS given a
// token bucket scaled down; then the simulation of the same scenario. Prints both; asserts nothing.
// Part of `npm run bench:fleet` when dist/ecr-credential-provider exists.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeAws, fakeAwsEnv } from "../test/helpers/fake-aws.ts";
import { BINARY, request } from "../test/helpers/run-binary.ts";
import { goPlugin } from "./go-plugin.ts";
import { rng, simulate, type Scenario } from "./fleet/sim.ts";

const NODES = 12;
const WINDOW_S = 2;
/** 500/s scaled down: a burst of 36 wave-1 lookups against 4 tokens a second. */
const QUOTA = { rate: 4, burst: 4 };
const IMAGES = ["amazon-k8s-cni-init", "eks/kube-proxy", "eks/eks-pod-identity-agent"].map((r) => `602401143452.dkr.ecr.us-west-2.amazonaws.com/${r}`);

interface Outcome {
  calls: number;
  throttled: number;
  execs: number;
  failed: number;
  p50: number;
  max: number;
}

function exec(bin: string, env: Record<string, string>, image: string): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(bin, [], { env, stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    const kill = setTimeout(() => p.kill("SIGKILL"), 60_000); // the kubelet's limit
    p.on("error", () => resolve(false));
    p.on("close", (code) => {
      clearTimeout(kill);
      resolve(code === 0 && out.startsWith("{"));
    });
    p.stdin.end(request(image));
  });
}

/** The kubelet side in real time: wave-1 lookups, a host cached once one succeeds, a failed lookup re-run 10–15 s later. */
async function real(bin: string, envFor: (node: number) => Record<string, string>, fake: Awaited<ReturnType<typeof startFakeAws>>): Promise<Outcome> {
  const r = rng(1);
  const o: Outcome = { calls: 0, throttled: 0, execs: 0, failed: 0, p50: 0, max: 0 };
  const times: number[] = [];
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: NODES }, async (_, n) => {
      const start = WINDOW_S * 1000 * r();
      const ds = 500 + 2500 * r();
      let done = false;
      await new Promise((res) => setTimeout(res, start + ds));
      await Promise.all(
        IMAGES.map(async (image) => {
          await new Promise((res) => setTimeout(res, 200 * r()));
          while (Date.now() - t0 < 300_000) {
            if (done) return;
            o.execs++;
            if (await exec(bin, envFor(n), image)) {
              if (!done) times.push((Date.now() - t0 - start) / 1000);
              done = true;
              return;
            }
            o.failed++;
            await new Promise((res) => setTimeout(res, 10_000 + 5000 * r()));
          }
        }),
      );
    }),
  );
  const calls = fake.ecrCalls();
  o.calls = calls.length;
  o.throttled = calls.filter((c) => c.rejected === "throttled").length;
  times.sort((a, b) => a - b);
  o.p50 = times[Math.floor((times.length - 1) / 2)] ?? NaN;
  o.max = times[times.length - 1] ?? NaN;
  return o;
}

export async function fleetCheck(): Promise<void> {
  if (!existsSync(BINARY)) {
    console.log(`\n(model check skipped: ${BINARY} is missing)`);
    return;
  }
  const go = goPlugin();
  const scratch = mkdtempSync(join(tmpdir(), "ecr-fleet-check-"));
  const rows: string[] = [];
  try {
    const sc: Scenario = {
      nodes: NODES,
      windowS: WINDOW_S,
      twoRegions: false,
      quota: { ...QUOTA, background: 0 },
      publicQuota: { rate: 200, burst: 200, background: 0 },
      seed: 1,
      horizonS: 600,
      shape: "wave1",
    };
    const line = (what: string, x: Outcome) =>
      `| ${what} | ${x.calls} | ${x.throttled} | ${x.execs} | ${x.failed} | ${x.p50.toFixed(1)} | ${x.max.toFixed(1)} |`;
    const simRow = async (p: "ours" | "go") => {
      const s = await simulate(sc, p);
      return { calls: s.ecrCalls, throttled: s.throttled, execs: s.execs, failed: s.failedExecs, p50: s.p50, max: s.max };
    };
    for (const plugin of ["ours", "go"] as const) {
      if (plugin === "go" && !("path" in go)) {
        rows.push(`| Go plugin, real | skipped: ${go.skipped} |`);
        continue;
      }
      const fake = await startFakeAws({ latencyMs: 50, bucket: QUOTA });
      try {
        const bin = plugin === "ours" ? BINARY : (go as { path: string }).path;
        const envFor = (n: number) =>
          fakeAwsEnv(fake, plugin === "ours" ? { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: join(scratch, `node-${n}`) } : { HOME: scratch });
        rows.push(line(`${plugin === "ours" ? "ours" : "Go plugin"}, real processes`, await real(bin, envFor, fake)));
      } finally {
        await fake.close();
      }
      rows.push(line(`${plugin === "ours" ? "ours" : "Go plugin"}, simulation`, await simRow(plugin)));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(
    `\n## Model check: ${NODES} nodes within ${WINDOW_S} s, 3 concurrent wave-1 lookups each (EKS add-on registry), fake ECR with a ${QUOTA.rate}/s bucket (burst ${QUOTA.burst}), 50 ms latency\n`,
  );
  console.log("| | ECR calls | throttled | execs | failed execs | p50 s | max s |\n|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
  console.log("(real exec times on a loaded machine are longer than the model's 15–90 ms; the kubelet side is the same rules in real time)");
}
