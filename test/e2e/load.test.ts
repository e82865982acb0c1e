// 200 concurrent runs against a fake ECR that throttles above 20 calls per second: all succeed, ECR calls stay at one per region.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeAws, fakeAwsEnv, type FakeAws } from "../helpers/fake-aws.ts";
import { BINARY } from "../helpers/run-binary.ts";
import { storm, stormImages } from "../../bench/storm.ts";
import { tempDir } from "../helpers/temp-dir.ts";

let fake: FakeAws;
before(async () => {
  fake = await startFakeAws({ latencyMs: 50, throttleAbovePerSecond: 20 });
});
after(async () => {
  await fake.close();
});

test("200 concurrent runs over 2 regions all succeed within the deadline with 2 ECR calls and no throttling", async () => {
  const env = fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: join(tempDir("load-"), "c") });
  const r = await storm(BINARY, env, stormImages(200, 20, ["us-east-1", "eu-west-1"]), fake);
  console.log(
    `load: ${r.runs} runs, ${r.failures} failed, ${r.ecrCalls} ECR calls, ${r.throttled} throttled, wall ${r.wallMs.toFixed(0)} ms, slowest ${r.slowestMs.toFixed(0)} ms`,
  );
  assert.equal(r.failures, 0, r.firstError);
  assert.equal(r.ecrCalls, 2);
  assert.equal(r.throttled, 0);
  assert.ok(r.slowestMs < 30_000, `slowest run ${r.slowestMs} ms exceeds the plugin's deadline`);
});
