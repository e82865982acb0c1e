// `npm run bench:load`: 200 concurrent runs against a fake ECR that throttles above 20 calls per second.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeAws, fakeAwsEnv } from "../test/helpers/fake-aws.ts";
import { BINARY } from "../test/helpers/run-binary.ts";
import { storm, stormImages } from "./storm.ts";

const fake = await startFakeAws({ latencyMs: 50, throttleAbovePerSecond: 20 });
const images = stormImages(200, 20, ["us-east-1", "eu-west-1"]);
const scratch = mkdtempSync(join(tmpdir(), "load-"));
const cached = await storm(BINARY, fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: join(scratch, "c") }), images, fake);
const uncached = await storm(BINARY, fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1" }), images, fake);
await fake.close();
rmSync(scratch, { recursive: true, force: true });
const line = (name: string, r: typeof cached) =>
  `${name.padEnd(10)} runs ${r.runs}  failed ${r.failures}  ECR calls ${r.ecrCalls} (throttled ${r.throttled})  wall ${(r.wallMs / 1000).toFixed(1)} s  slowest run ${(r.slowestMs / 1000).toFixed(1)} s`;
console.log("200 concurrent runs, 200 images, 20 registries, 2 regions; fake ECR throttles above 20 calls/s, 50 ms latency");
console.log(line("cache", cached));
console.log(line("--no-cache", uncached));
if (uncached.firstError) console.log(`first --no-cache failure: ${uncached.firstError}`);
