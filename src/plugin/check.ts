// `check`'s output: the human summary and the JSON (also on failure), never a password or token.

import { ConfigError, CredentialsError, PluginError } from "../core/errors.ts";
import type { ProvideDetails } from "../core/provider.ts";

/** What `check --output=json` reports on failure: what was known by then, and the error. */
export function checkFailureJson(known: Record<string, unknown>, err: unknown): Record<string, unknown> {
  const e = err instanceof PluginError ? err : undefined;
  const facts = { ...known };
  // Credentials resolved unless the failure says none could be found or the setup is wrong.
  if ((e instanceof CredentialsError && e.code === "no_credentials") || e instanceof ConfigError) delete facts.source;
  return { ok: false, ...facts, error: { code: e?.code ?? "internal", message: e?.message ?? String(err) } };
}

/** `check --output=json`: the same facts as the summary, for doctor and scripts; never a password or token. */
export function checkJson(d: ProvideDetails, elapsedMs: number): Record<string, unknown> {
  return {
    ok: true,
    registry: d.image.authKey,
    ...(d.image.aliasOf ? { aliasOf: d.image.aliasOf } : {}),
    kind: d.image.kind,
    ...(d.image.account ? { account: d.image.account } : {}),
    partition: d.image.partition,
    region: d.image.region,
    fips: d.image.fips,
    dualstack: d.image.dualstack,
    endpoint: d.endpoint,
    source: d.plan.description,
    ...(d.expiresAt ? { expiresAt: d.expiresAt.toISOString() } : {}),
    ...(d.serverDate ? { serverDate: d.serverDate.toISOString() } : {}),
    cacheDuration: d.cacheDuration,
    fromCache: d.fromCache,
    stale: d.stale,
    elapsedMs,
  };
}

/** `check`'s human summary; never a password or token. */
export function checkSummary(d: ProvideDetails, elapsedMs: number): string {
  const rows: [string, string][] = [
    ["registry", d.image.authKey + (d.image.aliasOf ? ` (alias of ${d.image.aliasOf})` : "")],
    ["kind", d.image.kind === "public" ? "ECR Public" : `ECR private, account ${d.image.account}`],
    ["partition", d.image.partition],
    ["region", d.image.region],
    ["fips / dual-stack", `${d.image.fips} / ${d.image.dualstack}`],
    ["API endpoint", d.endpoint],
    ["credential source", d.plan.description],
    ["token expires", d.expiresAt ? d.expiresAt.toISOString() : "(no expiry given)"],
    ["cacheDuration", d.cacheDuration],
    ["from cache", d.fromCache ? (d.stale ? "yes (stale: refresh failed)" : "yes") : "no"],
    ["elapsed", `${elapsedMs} ms`],
    ["password", "(redacted)"],
  ];
  return rows.map(([k, v]) => `${k.padEnd(18)} ${v}`).join("\n") + "\n";
}
