// `npm run bench:fleet`: the fleet simulation (bench/fleet/sim.ts) for ours, the Go plugin and the
// quota bound, printed as tables. Figures only, never asserted. FLEET_FULL=1 sweeps more.

import { fleetCheck } from "./fleet-check.ts";
import { simulate, type PluginKind, type Quota, type Result, type Scenario } from "./fleet/sim.ts";

const FULL = process.env.FLEET_FULL === "1";
const PUBLIC: Quota = { rate: 200, burst: 200, background: 0 };
const HORIZON_S = 900;

const scenario = (nodes: number, windowS: number, quota: Quota, seed = 1): Scenario => ({
  nodes,
  windowS,
  twoRegions: true,
  quota,
  publicQuota: PUBLIC,
  seed,
  horizonS: HORIZON_S,
});

let cpuMs = 0;
async function run(s: Scenario, plugin: PluginKind): Promise<Result> {
  const t = process.cpuUsage();
  const r = await simulate(s, plugin);
  const c = process.cpuUsage(t);
  cpuMs += (c.user + c.system) / 1000;
  return r;
}

const secs = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : `>${HORIZON_S}`);
const q = (x: Quota) => `${x.rate}/s burst ${x.burst}${x.background ? `, ${Math.round(x.background * 100)}% taken by other load` : ""}`;
const row = (label: string, r: Result, bound?: Result) =>
  `| ${label} | ${r.ecrCalls} | ${r.throttled} | ${r.execs} | ${r.failedExecs} | ${r.errImagePull} | ${secs(r.p50)} | ${secs(r.p99)} | ${secs(r.max)} | ${bound ? (r.p99 / bound.p99).toFixed(2) : ""} |`;
const HEAD =
  "| | ECR calls | throttled | execs | failed execs | ErrImagePull | p50 s | p99 s | max s | p99 / bound |\n|---|---|---|---|---|---|---|---|---|---|";

console.log(
  `Fleet scale-out simulation (virtual clock; our real provide(), retry policy and token cache on an in-memory file system per node; kubelet and Go plugin modelled from source; see README "At fleet scale")`,
);
console.log(
  `Time to credentials: kubelet start → the kubelet holds credentials for every registry the node's pods need (EKS add-on account, ECR Public, the workloads' registries in 1–2 Regions).`,
);
console.log(`"bound": what the quota allows: one call per node and Region, queued for a token (never throttled, never failed).\n`);

// 1. Fleet sizes and windows at the quota of the goal: 500/s, half taken by other load.
const goal: Quota = { rate: 500, burst: 500, background: 0.5 };
console.log(`## N nodes booting within W, ECR quota ${q(goal)}; ECR Public ${q(PUBLIC)}\n`);
console.log(HEAD);
for (const nodes of [100, 1000, 10000]) {
  for (const windowS of [10, 60]) {
    const s = scenario(nodes, windowS, goal);
    const bound = await run(s, "bound");
    const ours = await run(s, "ours");
    const go = await run(s, "go");
    console.log(row(`N=${nodes} W=${windowS}s ours`, ours, bound));
    console.log(row(`N=${nodes} W=${windowS}s Go plugin`, go, bound));
    console.log(row(`N=${nodes} W=${windowS}s bound`, bound, bound));
  }
}

// 2. The quota swept: burst 0…500 for the 500/s quota, other load 0 or 50 %, and the legacy 20/s with a 200 burst.
const sweeps: Quota[] = [
  { rate: 500, burst: 0, background: 0.5 },
  { rate: 500, burst: 500, background: 0 },
  { rate: 20, burst: 200, background: 0 },
  { rate: 20, burst: 200, background: 0.5 },
  ...(FULL
    ? [
        { rate: 500, burst: 0, background: 0 },
        { rate: 500, burst: 100, background: 0.5 },
        { rate: 500, burst: 500, background: 0.25 },
      ]
    : []),
];
const sweepAt: [number, number][] = FULL
  ? [
      [1000, 10],
      [10000, 60],
      [10000, 10],
    ]
  : [[1000, 10]];
for (const [nodes, windowS] of sweepAt) {
  console.log(`\n## Quota sweep, N=${nodes} W=${windowS}s\n`);
  console.log(HEAD);
  for (const quota of sweeps) {
    const s = scenario(nodes, windowS, quota);
    const bound = await run(s, "bound");
    console.log(row(`${q(quota)}: ours`, await run(s, "ours"), bound));
    console.log(row(`${q(quota)}: Go plugin`, await run(s, "go"), bound));
    console.log(row(`${q(quota)}: bound`, bound, bound));
  }
}
await fleetCheck();
console.log(`\nsimulation CPU ${(cpuMs / 1000).toFixed(1)} s${FULL ? "" : " (FLEET_FULL=1 for the wider sweep)"}`);
