// N concurrent runs of the executable, as a node's kubelet does at boot; shared by the benchmark, the load script and the load test.

import { spawn } from "node:child_process";
import type { FakeAws } from "../test/helpers/fake-aws.ts";
import { request } from "../test/helpers/run-binary.ts";

export interface StormResult {
  runs: number;
  failures: number;
  ecrCalls: number;
  throttled: number;
  wallMs: number;
  slowestMs: number;
  firstError?: string;
}

/** Start every run at once, one image each; count ECR calls the fake saw meanwhile. */
export async function storm(binary: string, env: Record<string, string>, images: string[], fake: FakeAws): Promise<StormResult> {
  const before = fake.ecrCalls().length;
  const started = process.hrtime.bigint();
  const results = await Promise.all(
    images.map(
      (image) =>
        new Promise<{ ok: boolean; ms: number; err: string }>((resolve) => {
          const t = process.hrtime.bigint();
          const p = spawn(binary, [], { env, stdio: ["pipe", "pipe", "pipe"] });
          let out = "";
          let err = "";
          p.stdout.on("data", (d) => (out += d));
          p.stderr.on("data", (d) => (err += d));
          p.on("close", (code) => resolve({ ok: code === 0 && out.startsWith("{"), ms: Number(process.hrtime.bigint() - t) / 1e6, err }));
          p.stdin.end(request(image));
        }),
    ),
  );
  const calls = fake.ecrCalls().slice(before);
  const failed = results.filter((r) => !r.ok);
  return {
    runs: results.length,
    failures: failed.length,
    ecrCalls: calls.length,
    throttled: calls.filter((c) => c.rejected === "throttled").length,
    wallMs: Number(process.hrtime.bigint() - started) / 1e6,
    slowestMs: Math.max(...results.map((r) => r.ms)),
    ...(failed[0] ? { firstError: failed[0].err.trim() } : {}),
  };
}

/** `n` images over `registries` accounts in the given regions. */
export function stormImages(n: number, registries: number, regions: string[]): string[] {
  return Array.from(
    { length: n },
    (_, i) => `${String(100000000000 + (i % registries)).padStart(12, "0")}.dkr.ecr.${regions[i % regions.length]}.amazonaws.com/image-${i}`,
  );
}
