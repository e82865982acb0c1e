// How long the kubelet may cache an answer: half the token's remaining life, as a Go duration string.

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

/** Whole seconds → Go `time.Duration.String()` form: `6h0m0s`, `10m0s`, `59s`, `0s`. */
export function formatGoDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s === 0) return "0s";
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${m}m${sec}s`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}
