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
      {
        maxAttempts: 4,
        signal: new AbortController().signal,
        sleep: noSleep,
        random: () => 0.999,
        baseDelayMs: 200,
        maxDelayMs: 500,
        onRetry: (_a, _e, d) => delays.push(d),
      },
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
  // A wrong secret key or an unknown access key id (403): never retried towards the deadline (test/node scenario 6).
  [
    "InvalidSignatureException",
    { name: "InvalidSignatureException", message: "signature mismatch", $metadata: { httpStatusCode: 403 } },
    "access_denied",
    4,
    false,
  ],
  ["UnrecognizedClientException", { name: "UnrecognizedClientException", message: "bad token", $metadata: { httpStatusCode: 403 } }, "access_denied", 4, false],
  ["ThrottlingException", { name: "ThrottlingException", message: "Rate exceeded", $metadata: { httpStatusCode: 400 } }, "throttled", 5, true],
  ["a 503", { name: "ServiceUnavailable", message: "x", $metadata: { httpStatusCode: 503 } }, "upstream_5xx", 5, true],
  ["ECONNREFUSED", { name: "Error", code: "ECONNREFUSED", message: "connect ECONNREFUSED" }, "network", 5, true],
  // A certificate the node's trust store does not reach (a TLS-inspecting proxy): not retried, the same store answers the same.
  [
    "an untrusted server certificate",
    { name: "Error", code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE", message: "unable to verify the first certificate" },
    "tls_untrusted",
    5,
    false,
  ],
  ["an expired server certificate", { name: "Error", code: "CERT_HAS_EXPIRED", message: "certificate has expired" }, "tls_untrusted", 5, false],
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

test("with a throttle policy, throttles do not count against maxAttempts and back off on their own full-jitter schedule", async () => {
  const delays: number[] = [];
  let calls = 0;
  const v = await withRetries(
    async () => {
      calls++;
      if (calls <= 6) throw new UpstreamError("throttled", "x", { retryable: true });
      return "ok";
    },
    {
      maxAttempts: 2,
      throttle: { baseDelayMs: 1000, maxDelayMs: 8000, maxAttempts: 64 },
      signal: new AbortController().signal,
      sleep: noSleep,
      random: () => 0.5,
      onRetry: (_a, _e, d) => delays.push(d),
    },
  );
  assert.equal(v, "ok");
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 4000, 4000]);
});

test("a fault after throttles still counts against maxAttempts", async () => {
  const errors = [
    new UpstreamError("throttled", "t", { retryable: true }),
    new UpstreamError("upstream_5xx", "a", { retryable: true }),
    new UpstreamError("upstream_5xx", "b", { retryable: true }),
  ];
  let calls = 0;
  await assert.rejects(
    withRetries(
      async () => {
        throw errors[calls++]!;
      },
      { maxAttempts: 2, throttle: { baseDelayMs: 1000, maxDelayMs: 8000, maxAttempts: 64 }, signal: new AbortController().signal, sleep: noSleep },
    ),
    (e: unknown) => (e as UpstreamError).message === "b",
  );
  assert.equal(calls, 3);
});
