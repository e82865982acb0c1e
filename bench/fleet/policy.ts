// How our ECR adapter (src/aws/ecr.ts) calls withRetries, so the simulation runs the production policy.

import { withRetries } from "../../src/aws/retry.js";
import { DEFAULT_MAX_ATTEMPTS } from "../../src/config.js";

export const ecrRetryOptions = {
  run<T>(fn: (attempt: number) => Promise<T>, o: { signal: AbortSignal; sleep: (ms: number, s: AbortSignal) => Promise<void>; random: () => number }): Promise<T> {
    return withRetries(fn, { maxAttempts: DEFAULT_MAX_ATTEMPTS, signal: o.signal, sleep: o.sleep, random: o.random });
  },
};
