// The plugin's flags: one table (name, kind, help) with an ECR_CREDENTIAL_PROVIDER_* environment twin each, shared by readConfig, --help and doctor.

/** Prefix of every flag's environment twin: `--log-level` → `ECR_CREDENTIAL_PROVIDER_LOG_LEVEL`. */
export const ENV_PREFIX = "ECR_CREDENTIAL_PROVIDER_";

/** Default cache directory: node-wide, root-owned, survives kubelet restarts (FHS /var/cache). */
export const DEFAULT_CACHE_DIR = "/var/cache/ecr-credential-provider";
/** Passphrase of an encrypted Roles Anywhere key, as a value: env or file only, never a flag. */
export const ENV_RA_PASSPHRASE = `${ENV_PREFIX}ROLES_ANYWHERE_PRIVATE_KEY_PASSPHRASE`;

/** How a flag takes its value: `--x VALUE`, a boolean `--x[=true|false]`, or a repeatable list. */
export type FlagKind = "string" | "bool" | "list";

/** One flag: how it takes its value and its help text; its environment twin is envName(name). */
export interface FlagSpec {
  kind: FlagKind;
  help: string;
}

/** Every flag; each has an env twin (`ENV_PREFIX` + upper snake case). Order is the help order. */
export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  "log-level": { kind: "string", help: "debug | info | warn | error | silent (default warn)" },
  "log-format": { kind: "string", help: "text | json (default text)" },
  output: { kind: "string", help: "check's output: text | json (default text)" },
  "registry-alias": { kind: "list", help: "HOST[:PORT]=ECR_REGISTRY, repeatable: answer for a mirror, pull-through host or CNAME with that ECR registry's token" },
  timeout: { kind: "string", help: "overall deadline, Go duration or seconds (default 30s; the kubelet kills at 60s)" },
  "cache-dir": { kind: "string", help: `node-wide token cache directory (default ${DEFAULT_CACHE_DIR})` },
  "no-cache": { kind: "bool", help: "do not read or write the token cache" },
  "roles-anywhere-certificate": { kind: "string", help: "IAM Roles Anywhere: leaf certificate PEM file" },
  "roles-anywhere-private-key": { kind: "string", help: "IAM Roles Anywhere: private key PEM file (PKCS#8, PKCS#1, SEC1, encrypted PKCS#8)" },
  "roles-anywhere-private-key-passphrase-file": { kind: "string", help: `file holding the key's passphrase (or env ${ENV_RA_PASSPHRASE})` },
  "roles-anywhere-intermediates": { kind: "string", help: "IAM Roles Anywhere: PEM bundle of up to 5 intermediate certificates" },
  "roles-anywhere-trust-anchor-arn": { kind: "string", help: "IAM Roles Anywhere trust anchor ARN (gives region and partition)" },
  "roles-anywhere-profile-arn": { kind: "string", help: "IAM Roles Anywhere profile ARN" },
  "roles-anywhere-role-arn": { kind: "string", help: "IAM role ARN to assume" },
  "roles-anywhere-session-duration": { kind: "string", help: "session length, 900–43200 s or a Go duration (default 3600s)" },
  "roles-anywhere-role-session-name": { kind: "string", help: "role session name (the profile must accept it)" },
};

/** `--log-level` → `ECR_CREDENTIAL_PROVIDER_LOG_LEVEL`. */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/-/g, "_");
}

/** Every value of `--name VALUE` / `--name=VALUE` in an argument list, in order (doctor reads a provider's args with it). */
export function flagValues(args: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === `--${name}`) out.push(args[i + 1] ?? "");
    else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return out;
}

/** A list flag's value (`a,b` or `a b`) → its entries. */
export function splitList(s: string): string[] {
  return s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}
