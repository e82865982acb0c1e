import { test } from "node:test";
import assert from "node:assert/strict";
import { withRetries } from "../../../src/aws/retry.ts";
import { UpstreamError, CredentialsError } from "../../../src/core/errors.ts";
import { mapAwsError } from "../../../src/aws/errors.ts";

const noSleep = async () => undefined;

test("retryable failures are retried up to the limit with growing, jittered, capped delays", async () => {
  const delays: number[] = [];
  let calls = 0;
  await assert.rejects(
    withRetries(
      async () => {
        calls++;
        throw new UpstreamError("throttled", "x", { retryable: true });
      },
      { maxAttempts: 4, signal: new AbortController().signal, sleep: noSleep, random: () => 0.999, baseDelayMs: 200, maxDelayMs: 500, onRetry: (_a, _e, d) => delays.push(d) },
    ),
    UpstreamError,
  );
  assert.equal(calls, 4);
  assert.deepEqual(delays, [199, 399, 499]);
});

test("a non-retryable failure is thrown at once", async () => {
  let calls = 0;
  await assert.rejects(
    withRetries(
      async () => {
        calls++;
        throw new CredentialsError("access_denied", "no");
      },
      { maxAttempts: 4, signal: new AbortController().signal, sleep: noSleep },
    ),
    CredentialsError,
  );
  assert.equal(calls, 1);
});

test("no new attempt starts once the deadline has passed", async () => {
  const c = new AbortController();
  let calls = 0;
  await assert.rejects(
    withRetries(
      async () => {
        calls++;
        c.abort();
        throw new UpstreamError("upstream_5xx", "x", { retryable: true });
      },
      { maxAttempts: 4, signal: c.signal, sleep: noSleep },
    ),
  );
  assert.equal(calls, 1);
});

const mapped: [string, unknown, string, number, boolean][] = [
  ["AccessDeniedException", { name: "AccessDeniedException", message: "no", $metadata: { httpStatusCode: 400 } }, "access_denied", 4, false],
  ["ThrottlingException", { name: "ThrottlingException", message: "Rate exceeded", $metadata: { httpStatusCode: 400 } }, "throttled", 5, true],
  ["a 503", { name: "ServiceUnavailable", message: "x", $metadata: { httpStatusCode: 503 } }, "upstream_5xx", 5, true],
  ["ECONNREFUSED", { name: "Error", code: "ECONNREFUSED", message: "connect ECONNREFUSED" }, "network", 5, true],
  ["a provider chain failure", { name: "CredentialsProviderError", message: "Could not load credentials from any providers" }, "no_credentials", 4, false],
  ["a 400 validation error", { name: "InvalidParameterException", message: "x", $metadata: { httpStatusCode: 400 } }, "upstream_4xx", 5, false],
];
for (const [what, err, code, exit, retryable] of mapped) {
  test(`mapAwsError: ${what} → ${code} (exit ${exit}${retryable ? ", retryable" : ""})`, () => {
    const e = mapAwsError(err, "ECR GetAuthorizationToken in us-east-1 (https://x)", "check things");
    assert.equal(e.code, code);
    assert.equal(e.exitCode, exit);
    assert.equal(e instanceof UpstreamError && e.retryable, retryable);
    assert.ok(!e.message.includes("\n"));
  });
}
