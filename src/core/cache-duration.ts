// How long the kubelet may cache an answer: half the token's remaining life, as a Go duration string.

import { formatGoDuration } from "./go-duration.ts";

export { formatGoDuration } from "./go-duration.ts";

/**
 * `cacheDuration` for a token expiring at `expiresAt`, seen at `now`. Half the remaining life
 * (what the reference plugin does), so the kubelet refreshes long before the token dies; whole
 * seconds; never negative; `"0s"` (do not cache) when the token has no expiry or is already dead.
 */
export function cacheDuration(expiresAt: Date | undefined, now: Date): string {
  if (!expiresAt) return "0s";
  const remaining = Math.floor((expiresAt.getTime() - now.getTime()) / 1000);
  if (!(remaining > 1)) return "0s";
  return formatGoDuration(Math.floor(remaining / 2));
}
