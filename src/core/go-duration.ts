// Go's time.Duration, both ways: the one parser (kubelet config fields, our duration flags) and the one formatter (cacheDuration).

/** A malformed Go duration string. */
export class GoDurationError extends Error {
  constructor(input: string) {
    super(`time: invalid duration ${JSON.stringify(input)}`);
    this.name = "GoDurationError";
  }
}

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  "\u00b5s": 1000n,
  "\u03bcs": 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_INT64 = (1n << 63n) - 1n;

/**
 * Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-zµμ]+)+` or "0"; units ns, us/µs/μs, ms, s, m, h.
 * Fractions are truncated to whole nanoseconds as Go does.
 * @returns the duration in nanoseconds.
 * @throws GoDurationError for "", "1d", "3600", "PT1H", overflow beyond int64, …
 */
export function parseGoDuration(input: string): bigint {
  let s = input;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") throw new GoDurationError(input);
  let total = 0n;
  while (s !== "") {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const intPart = m[1] ?? "";
    const hasDot = m[0].length > intPart.length;
    const fracPart = m[2] ?? "";
    if (intPart === "" && fracPart === "") throw new GoDurationError(input);
    if (!hasDot && intPart === "") throw new GoDurationError(input);
    s = s.slice(m[0].length);
    const unitMatch = /^[^0-9.]+/.exec(s);
    if (!unitMatch) throw new GoDurationError(input);
    const unit = UNIT_NS[unitMatch[0]];
    if (unit === undefined) throw new GoDurationError(input);
    s = s.slice(unitMatch[0].length);
    let v = BigInt(intPart === "" ? "0" : intPart) * unit;
    if (fracPart !== "") v += (BigInt(fracPart) * unit) / 10n ** BigInt(fracPart.length);
    total += v;
    if (total > MAX_INT64 + (neg ? 1n : 0n)) throw new GoDurationError(input);
  }
  return neg ? -total : total;
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
