// The retry policy, judged where it matters: a scaled-down fleet scale-out in the simulation of
// `npm run bench:fleet` (virtual clock; our real provide(), withRetries with the production policy
// and the real token cache on an in-memory file system per node). Fails when the policy regresses: throttled retries no longer jittered, throttling given
// up after a few attempts, a deadline shorter than the kubelet allows, or a lock wait that makes
// waiters call ECR in parallel.

import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate, type Scenario } from "../../bench/fleet/sim.ts";

/**
 * 300 nodes within 5 s against the legacy quota scaled down (20/s, burst 20; ECR Public 7/s):
 * the private bucket needs ~15 s and the public one ~43 s to serve every node once, so most
 * nodes are throttled, and some must wait 30–45 s inside one exec (longer than the old 30 s deadline).
 */
const scenario: Scenario = {
  nodes: 300,
  windowS: 5,
  twoRegions: true,
  quota: { rate: 20, burst: 20, background: 0 },
  publicQuota: { rate: 7, burst: 7, background: 0 },
  seed: 3,
  horizonS: 600,
};

test("fleet simulation: under throttling no exec fails and p99 time to credentials is within 20% of what the quota allows; throttled retries are jittered", async () => {
  const bound = await simulate(scenario, "bound");
  const ours = await simulate(scenario, "ours");
  const msg = `ours: ${JSON.stringify({ ...ours, throttleRetryGapsMs: ours.throttleRetryGapsMs.length })}; bound p99 ${bound.p99.toFixed(1)} s`;
  assert.equal(ours.notDone, 0, msg);
  assert.ok(ours.throttled > 100, `the scenario must throttle: ${msg}`);
  assert.equal(ours.failedExecs, 0, `an exec failed: ${msg}`);
  assert.equal(ours.errImagePull, 0, msg);
  assert.ok(ours.p99 <= 1.2 * bound.p99, `p99 ${ours.p99.toFixed(1)} s is more than 1.2 × the bound's ${bound.p99.toFixed(1)} s: ${msg}`);
  // Each node-wide cache makes one successful call per Region and for ECR Public: throttled retries
  // aside, ours never calls more than the bound does.
  assert.equal(ours.ecrCalls - ours.throttled, bound.ecrCalls, msg);

  // Jitter: the waits after a throttle are spread, not a few fixed values (a fleet whose retries
  // are in step hits the empty bucket together again). Uniform full jitter has a coefficient of
  // variation near 0.6 per step; fixed steps 1, 2, 4, 8 s far less within each step.
  const gaps = ours.throttleRetryGapsMs;
  assert.ok(gaps.length > 100, msg);
  const distinct = new Set(gaps.map((g) => Math.round(g / 10))).size;
  assert.ok(distinct > gaps.length / 4, `throttled retries wait one of only ${distinct} distinct times (${gaps.length} retries): not jittered`);
  const first = gaps.slice().sort((a, b) => a - b);
  const quarter = first[Math.floor(first.length / 4)]!;
  assert.ok(
    quarter < 0.5 * first[Math.floor((3 * first.length) / 4)]!,
    `retry waits are bunched (quartiles ${quarter} ms and ${first[Math.floor((3 * first.length) / 4)]} ms)`,
  );
});
