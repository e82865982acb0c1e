// doctor's AWS check: run this executable's own `check` exactly as the kubelet would run the plugin (the provider's args and env), without the cache.

import type { ProbeProvider, ProbeResult } from "./types.ts";

export interface CheckRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the executable with these arguments and this exact environment; main.ts spawns it. */
export type RunCheck = (args: string[], env: Record<string, string>) => Promise<CheckRun>;

/**
 * Probe `image` in a child process of this very executable, so credentials come from exactly the
 * environment and flags the kubelet would give the plugin (the provider's `env` entries override
 * the inherited environment, as the kubelet does). Never returns the token: `check` prints none.
 */
export async function probeImage(
  image: string,
  provider: ProbeProvider | undefined,
  env: Readonly<Record<string, string | undefined>>,
  runCheck: RunCheck,
): Promise<ProbeResult> {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  for (const e of provider?.env ?? []) childEnv[e.name] = e.value;
  // `get-credentials` and other positionals some configs pass are not flags; check takes the image.
  const flags = (provider?.args ?? []).filter((a) => a.startsWith("-"));
  const r = await runCheck(["check", "--output=json", "--no-cache", ...flags, image], childEnv);
  let parsed: Record<string, any> | undefined;
  try {
    parsed = JSON.parse(r.stdout.trim().split("\n").pop() ?? "");
  } catch {
    parsed = undefined;
  }
  if (!parsed) {
    const line = r.stderr.trim().split("\n")[0] ?? "";
    const m = /^ecr-credential-provider: ([a-z_0-9A-Z]+): (.*)$/.exec(line);
    return { ok: false, error: { code: m?.[1] ?? "probe_failed", message: m?.[2] ?? (line || `check exited ${r.code}`) } };
  }
  const date = (v: unknown) => (typeof v === "string" && !Number.isNaN(new Date(v).getTime()) ? new Date(v) : undefined);
  const expiresAt = date(parsed.expiresAt);
  const serverDate = date(parsed.serverDate);
  return {
    ok: parsed.ok === true,
    ...(typeof parsed.source === "string" ? { source: parsed.source } : {}),
    ...(typeof parsed.region === "string" ? { region: parsed.region } : {}),
    ...(typeof parsed.endpoint === "string" ? { endpoint: parsed.endpoint } : {}),
    ...(expiresAt ? { expiresAt } : {}),
    ...(serverDate ? { serverDate } : {}),
    ...(parsed.ok === true ? {} : { error: { code: String(parsed.error?.code ?? "probe_failed"), message: String(parsed.error?.message ?? "") } }),
  };
}
