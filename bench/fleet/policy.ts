// How our AWS adapters (src/aws/ecr.ts, sts.ts) call withRetries, so the simulation runs the production policy.

import { awsRetryPolicy, withRetries } from "../../src/aws/retry.ts";
import { DEFAULT_MAX_ATTEMPTS } from "../../src/core/config.ts";

export function retryLikeEcr<T>(
  fn: (attempt: number) => Promise<T>,
  o: { signal: AbortSignal; sleep: (ms: number, s: AbortSignal) => Promise<void>; random: () => number },
): Promise<T> {
  return withRetries(fn, { ...awsRetryPolicy(DEFAULT_MAX_ATTEMPTS), signal: o.signal, sleep: o.sleep, random: o.random });
}
