// What a cold run loads: over HTTPS with a test CA, a cache miss loads the network built-ins it needs and none of the heavy ones
// (web streams, zlib, fs/promises, Web Crypto, http2, fetch, workers, child processes) that the AWS SDK would pull in for a 1 KB
// JSON answer; a warm run (cache hit) with the kubelet's stdio (pipes) loads none of the network ones, not even net, stream or
// tty for its stdio.
// Asserts on the set of built-ins (the debug "modules" line), never on timings.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startFakeAws, fakeAwsEnv, TEST_CA_FILE, TEST_SERVER_TLS, type FakeAws } from "../helpers/fake-aws.ts";
import { runBinary, runBinaryOnPipe, request, type RunResult } from "../helpers/run-binary.ts";
import { tempDir } from "../helpers/temp-dir.ts";

/** The built-ins a cache miss over HTTPS needs: exactly these of the watched ones (src/cli/main.ts WATCHED_BUILTINS). */
const COLD_BUILTINS = ["crypto", "tls", "http", "https", "net", "stream"];
/** What a cache hit must not load: its stdio goes through fs (src/cli/stdio.ts), its answer comes from the cache. */
const NOT_WARM = ["net", "stream", "tty", "crypto", "tls", "http", "https"];

let fake: FakeAws;
before(async () => {
  fake = await startFakeAws({
    tls: TEST_SERVER_TLS(),
  });
});
after(async () => {
  await fake.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return fakeAwsEnv(fake, {
    ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1",
    ECR_CREDENTIAL_PROVIDER_LOG_LEVEL: "debug",
    NODE_EXTRA_CA_CERTS: TEST_CA_FILE,
    ...extra,
  });
}

/** The run's debug "modules" line, parsed. */
function modules(r: RunResult): { awsSdkLoaded: string; builtins: string[]; lazyCodeCache?: string } {
  assert.equal(r.code, 0, r.stderr);
  const line = r.stderr.split("\n").find((l) => / debug: modules /.test(l));
  assert.ok(line, `no modules line in: ${r.stderr}`);
  const field = (k: string) => new RegExp(`\\b${k}=(\\S*)`).exec(line)?.[1];
  const lazyCodeCache = field("lazyCodeCache");
  return {
    awsSdkLoaded: field("awsSdkLoaded") ?? "",
    builtins: (field("builtins") ?? "").split(",").filter(Boolean),
    ...(lazyCodeCache ? { lazyCodeCache } : {}),
  };
}

describe("cold path over HTTPS", () => {
  test("a cache miss with the default chain loads crypto, tls, http, https (and net, stream under them), and no web streams, zlib, fs/promises, Web Crypto, http2 or fetch", async () => {
    const before = fake.ecrCalls().length;
    const m = modules(await runBinary({ env: env(), stdin: request("123456789012.dkr.ecr.us-east-1.amazonaws.com/app") }));
    assert.equal(fake.ecrCalls().length - before, 1, "the run reached the fake ECR over HTTPS");
    assert.equal(m.awsSdkLoaded, "true");
    assert.deepEqual(m.builtins, COLD_BUILTINS);
    // A build without the lazy half's code cache (--no-code-cache) prints no lazyCodeCache field.
    if (m.lazyCodeCache) assert.equal(m.lazyCodeCache, "accepted");
  });

  test("STS with the pod's token, then ECR, over HTTPS: the same built-ins", async () => {
    const token = ["eyJhbGciOiJSUzI1NiJ9", Buffer.from('{"sub":"system:serviceaccount:a:b"}').toString("base64url"), "c2ln"].join(".");
    const before = fake.calls.length;
    const r = await runBinary({
      env: env({ AWS_ECR_ROLE_ARN: "arn:aws:iam::123456789012:role/ecr" }),
      stdin: request("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app", undefined, { serviceAccountToken: token }),
    });
    const m = modules(r);
    assert.deepEqual(
      fake.calls.slice(before).map((c) => `${c.service} ${c.status}`),
      ["sts 200", "ecr 200"],
    );
    assert.deepEqual(m.builtins, COLD_BUILTINS);
  });
});

describe("warm path", () => {
  test("a cache hit with stdin on a pipe, as the kubelet runs it, loads none of net, stream, tty, crypto, tls, http, https", async () => {
    const e = env({ ECR_CREDENTIAL_PROVIDER_CACHE_DIR: tempDir("cold-path-warm-") });
    delete e["ECR_CREDENTIAL_PROVIDER_NO_CACHE"];
    const image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/warm";
    assert.equal((await runBinaryOnPipe({ env: e, stdin: request(image) })).code, 0, "the miss that fills the cache");
    const before = fake.ecrCalls().length;
    const r = await runBinaryOnPipe({ env: e, stdin: request(image) });
    const m = modules(r);
    assert.equal(fake.ecrCalls().length, before, "a cache hit");
    assert.equal(m.awsSdkLoaded, "false");
    assert.deepEqual(
      m.builtins.filter((b) => NOT_WARM.includes(b)),
      [],
    );
    assert.equal(JSON.parse(r.stdout).kind, "CredentialProviderResponse", "stdout carries the answer");
  });
});
