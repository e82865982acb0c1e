// Bounded retries with full-jitter exponential backoff, always inside the caller's deadline.
// Throttling is retried differently from faults: see THROTTLE_BACKOFF and `npm run bench:fleet`.

import { UpstreamError } from "../core/errors.ts";

export interface RetryOptions {
  maxAttempts: number;
  signal: AbortSignal;
  /** Base of the backoff: after attempt n the wait is random(0, base·2^(n-1)), capped. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * Backoff after a throttled attempt (UpstreamError code "throttled"). Throttled attempts do not
   * count against `maxAttempts`: they are retried until the deadline (the signal), at most
   * `maxAttempts` of them. Omit to treat throttling like any retryable fault.
   */
  throttle?: { baseDelayMs: number; maxDelayMs: number; maxAttempts: number };
  /** Called before each retry (for logging). */
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

/** Default backoff base for faults (5xx, network): they clear within a second or two. */
const BASE_DELAY_MS = 400;
const MAX_DELAY_MS = 4_000;

/**
 * Backoff after throttling: full jitter, U[0, min(8 s, 1 s·2^(k−1))) after the k-th throttle in a
 * row, retried until the deadline. A throttle says the account's token bucket (shared by every node
 * and every other caller in the account and Region) is empty, not that this call is broken: giving
 * up after a few seconds only makes the kubelet come back 10–15 s later (and log ErrImagePull),
 * while a retry spread at random over the next seconds lands when the bucket has refilled. Full
 * jitter keeps the retries of thousands of nodes throttled together from arriving together again;
 * the 8 s cap bounds how long a node waits after the bucket has room. Chosen with the fleet
 * simulation (`npm run bench:fleet`, README "At fleet scale"); test/integration/fleet-retry.test.ts
 * fails when it regresses.
 */
export const THROTTLE_BACKOFF = { baseDelayMs: 1_000, maxDelayMs: 8_000, maxAttempts: 64 } as const;

/**
 * Roles Anywhere's refresh policy: 3 attempts (the first included), a shorter backoff: the session
 * call sits in front of the ECR call within the same deadline.
 */
export const RETRY_POLICY_ROLES_ANYWHERE = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2000 } as const;

/** Whether an error is worth another attempt: marked retryable by an adapter. */
export function isRetryable(err: unknown): boolean {
  return err instanceof UpstreamError && err.retryable;
}

/** Sleep that ends early (rejecting) when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Run `fn` up to `maxAttempts` times while it fails with a retryable error and the deadline
 * (the signal) has not passed. The last error is rethrown unchanged.
 */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const base = opts.baseDelayMs ?? BASE_DELAY_MS;
  const cap = opts.maxDelayMs ?? MAX_DELAY_MS;
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? abortableSleep;
  let faults = 0;
  let throttles = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetryable(err) || opts.signal.aborted) throw err;
      const throttled = opts.throttle !== undefined && (err as UpstreamError).code === "throttled";
      let window: number;
      if (throttled) {
        throttles++;
        if (throttles >= opts.throttle!.maxAttempts) throw err;
        window = Math.min(opts.throttle!.maxDelayMs, opts.throttle!.baseDelayMs * 2 ** (throttles - 1));
      } else {
        faults++;
        throttles = 0;
        if (faults >= opts.maxAttempts) throw err;
        window = Math.min(cap, base * 2 ** (faults - 1));
      }
      const delay = Math.floor(random() * window);
      opts.onRetry?.(attempt, err, delay);
      try {
        await sleep(delay, opts.signal);
      } catch {
        throw err;
      }
      // The deadline may have passed while we slept: start no new attempt then.
      if (opts.signal.aborted) throw err;
    }
  }
}

/** The policy every AWS call of a run uses (ECR, ECR Public, STS); the fleet simulation runs exactly this. */
export function awsRetryPolicy(maxAttempts: number): Pick<RetryOptions, "maxAttempts" | "throttle"> {
  return { maxAttempts, throttle: { ...THROTTLE_BACKOFF } };
}
