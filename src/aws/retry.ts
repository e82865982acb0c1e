// Bounded retries with full-jitter exponential backoff, always inside the caller's deadline.

import { UpstreamError } from "../core/errors.ts";

export interface RetryOptions {
  maxAttempts: number;
  signal: AbortSignal;
  /** Base of the backoff: after attempt n the wait is random(0, base·2^(n-1)), capped. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Called before each retry (for logging). */
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

/** Default backoff base: ECR throttling clears within a second or two. */
const BASE_DELAY_MS = 400;
const MAX_DELAY_MS = 4_000;

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
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.maxAttempts || !isRetryable(err) || opts.signal.aborted) throw err;
      const delay = Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1)));
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
