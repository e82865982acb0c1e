// Command line and environment → one frozen Config. The only module that reads environment variables.

import { ConfigError } from "./errors.ts";
import { DOCTOR_OPTIONS, ENV_RA_PASSPHRASE, FLAGS, defaultCacheDir, envName, splitList } from "./flags.ts";
import { GoDurationError, parseGoDuration } from "./go-duration.ts";

export {
  DEFAULT_CACHE_DIR,
  DEFAULT_WINDOWS_CACHE_DIR,
  defaultCacheDir,
  DOCTOR_OPTIONS,
  ENV_PREFIX,
  ENV_RA_PASSPHRASE,
  FLAGS,
  envName,
  type FlagKind,
  type FlagSpec,
} from "./flags.ts";
import type { LogFormat, LogLevel } from "./log.ts";

/**
 * Overall deadline: the kubelet SIGKILLs us at 60 s (plugin.go) and does not retry by itself; a
 * failed lookup comes back only 10–15 s later, after an anonymous pull and ErrImagePull. So use
 * the time the kubelet allows, minus 5 s for start-up and exit on a busy node: when the account's
 * quota is exhausted at a scale-out, waiting for the bucket inside one exec is what gets the node
 * its credentials soonest (README "At fleet scale").
 */
export const DEFAULT_TIMEOUT_MS = 55_000;
/** One HTTP attempt: the reference uses 30 s per client; ours is shorter so a retry fits in the deadline. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;
/** TCP/TLS connect: a blackholed endpoint must not eat the whole deadline. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
/** Attempts per AWS call, throttling and 5xx included (jittered exponential backoff between them). */
export const DEFAULT_MAX_ATTEMPTS = 4;
/** Roles Anywhere session length when none is configured: the helper's default. */
export const DEFAULT_RA_SESSION_SECONDS = 3600;

/** Role ARN for service-account mode when the service account carries no annotation (reference plugin's name). */
export const ENV_ECR_ROLE_ARN = "AWS_ECR_ROLE_ARN";
/** Roles Anywhere endpoint override (the SDK's naming convention for service endpoints). */
export const ENV_ENDPOINT_ROLESANYWHERE = "AWS_ENDPOINT_URL_ROLESANYWHERE";
/** AWS SDK variables that decide which identity the default chain resolves; they shape the cache key. */
export const IDENTITY_ENV = [
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_ACCESS_KEY_ID",
  "AWS_ROLE_ARN",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_ECR",
  "AWS_ENDPOINT_URL_ECR_PUBLIC",
  "AWS_ENDPOINT_URL_STS",
  ENV_ENDPOINT_ROLESANYWHERE,
] as const;

/** Proxy variables Node's agents honour (`proxyEnv`), in both spellings. */
export const PROXY_ENV = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"] as const;

/** Endpoint overrides for the AWS clients we build: the SDK's service variable, else AWS_ENDPOINT_URL. */
export interface AwsEndpoints {
  ecr?: string;
  ecrPublic?: string;
  sts?: string;
}

export type Command = "plugin" | "check" | "doctor" | "cache" | "version" | "help";
/** Subcommands with their own usage (`check --help`…). */
export type HelpTopic = "check" | "doctor" | "cache";
/** Where a setting came from, for the debug log. */
export type SettingSource = "flag" | "env" | "default";

export interface RolesAnywhereSettings {
  certificate: string;
  privateKey: string;
  intermediates?: string;
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  sessionDurationSeconds: number;
  roleSessionName?: string;
  passphraseFile?: string;
  /** Passphrase given through the environment (never through a flag). */
  passphrase?: string;
  endpoint?: string;
}

export interface Config {
  command: Command;
  /** `check IMAGE` → [IMAGE]; `cache clear X` → ["clear", X]; `doctor …` → its own arguments, checked against DOCTOR_OPTIONS. */
  commandArgs: readonly string[];
  /** `help`: the subcommand whose usage was asked for (`check --help`), or none for the whole help. */
  helpTopic?: HelpTopic;
  /** Each flag of FLAGS: given as a flag, through its environment twin, or the default. */
  sources: Readonly<Record<string, SettingSource>>;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** `check`'s output format. */
  output: "text" | "json";
  registryAliases: readonly string[];
  timeoutMs: number;
  attemptTimeoutMs: number;
  connectTimeoutMs: number;
  maxAttempts: number;
  cacheDir: string;
  noCache: boolean;
  /** `AWS_ECR_ROLE_ARN`: service-account mode's role when no annotation names one. */
  ecrRoleArn?: string;
  rolesAnywhere?: RolesAnywhereSettings;
  /** The identity-shaping AWS variables, for the cache key and `check`. */
  awsEnv: Readonly<Record<string, string>>;
  /** AWS_ENDPOINT_URL_ECR / _ECR_PUBLIC / _STS (each else AWS_ENDPOINT_URL); Roles Anywhere's is in `rolesAnywhere`. */
  endpoints: Readonly<AwsEndpoints>;
  /** The PROXY_ENV variables that are set: the AWS clients' agents take their proxy from these. */
  proxyEnv: Readonly<Record<string, string>>;
  /** SSL_CERT_FILE / SSL_CERT_DIR as set (non-empty): the trust store the operator names (aws/trust.ts). */
  trustEnv: Readonly<{ SSL_CERT_FILE?: string; SSL_CERT_DIR?: string }>;
}

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];
const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/**
 * Read the command line and environment. Precedence: flag > env twin > default. Unknown flags,
 * bad values and incomplete Roles Anywhere settings are ConfigErrors (exit 3). A positional
 * `get-credentials` is accepted and ignored: configs written for other plugins pass it.
 */
export function readConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform = "linux"): Config {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--version" || arg === "-v" || (arg === "version" && positional.length === 0)) return freeze(base(platform, env, flags, "version", []));
    if (arg === "--help" || arg === "-h" || (arg === "help" && positional.length === 0)) {
      help = true;
      continue;
    }
    if (arg === "doctor" && positional.length === 0) {
      const rest = argv.slice(i + 1);
      if (rest.some((a) => a === "--help" || a === "-h")) return freeze({ ...base(platform, env, flags, "help", []), helpTopic: "doctor" });
      checkDoctorArgs(rest);
      return freeze(base(platform, env, flags, "doctor", rest));
    }
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("-") && arg !== "-") {
      // Long options only; a single dash (`-x`, `-verbose`) is never taken for a word or for kubelet mode.
      const eq = arg.indexOf("=");
      const name = arg.startsWith("--") ? arg.slice(2, eq === -1 ? undefined : eq) : "";
      const spec = FLAGS[name];
      if (!spec) throw new ConfigError("unknown_flag", `unknown option ${JSON.stringify(eq === -1 ? arg : arg.slice(0, eq))} (see --help)`);
      let value: string;
      if (spec.kind === "bool") {
        value = eq === -1 ? "true" : arg.slice(eq + 1);
      } else if (eq !== -1) {
        value = arg.slice(eq + 1);
      } else {
        const next = argv[i + 1];
        if (next === undefined) throw new ConfigError("missing_flag_value", `flag --${name} needs a value`);
        value = next;
        i++;
      }
      flags.set(name, [...(flags.get(name) ?? []), value]);
      continue;
    }
    positional.push(arg);
  }
  const [first, ...rest] = positional;
  const topic: HelpTopic | undefined = first === "check" || first === "cache" ? first : undefined;
  if (help) return freeze({ ...base(platform, env, flags, "help", []), ...(topic ? { helpTopic: topic } : {}) });
  if (first === "check") {
    if (rest.length === 0 || (rest.length === 1 && rest[0]!.trim() === "")) {
      throw new ConfigError(
        "no_image",
        "check needs an image: ecr-credential-provider check IMAGE (e.g. 123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/app)",
      );
    }
    if (rest.length !== 1) throw new ConfigError("bad_usage", `check takes one IMAGE, got ${rest.length} (see check --help)`);
    return freeze(base(platform, env, flags, "check", rest));
  }
  if (first === "cache") return freeze(base(platform, env, flags, "cache", rest));
  // Anything else positional (`get-credentials`, a cloud-config path from other plugins' configs) is ignored.
  return freeze(base(platform, env, flags, "plugin", []));
}

/** doctor's arguments against DOCTOR_OPTIONS: an unknown option is a configuration error here too (exit 3). */
function checkDoctorArgs(args: readonly string[]): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf("=");
    const name = a.startsWith("--") ? a.slice(2, eq === -1 ? undefined : eq) : "";
    const spec = DOCTOR_OPTIONS[name];
    if (!spec) throw new ConfigError("unknown_flag", `unknown doctor option ${JSON.stringify(eq === -1 ? a : a.slice(0, eq))} (see doctor --help)`);
    if (spec.value && eq === -1) i++;
  }
}

function freeze(c: Config): Config {
  return Object.freeze(c);
}

/** The typed readers of one setting: the last flag wins, else a non-empty environment variable (`--name` ↔ its env name). */
function settingReaders(env: Readonly<Record<string, string | undefined>>, flags: Map<string, string[]>) {
  const get = (name: string): string | undefined => {
    const v = flags.get(name);
    if (v !== undefined) return v[v.length - 1];
    const e = env[envName(name)];
    return e === undefined || e === "" ? undefined : e;
  };
  const list = (name: string): string[] => {
    const v = flags.get(name);
    if (v !== undefined) return v.flatMap(splitList);
    return splitList(env[envName(name)] ?? "");
  };
  const bool = (name: string): boolean => {
    const v = get(name);
    if (v === undefined) return false;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    throw new ConfigError("bad_flag_value", `--${name} / ${envName(name)}: expected true or false, got ${JSON.stringify(v)}`);
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], dflt: T): T => {
    const v = get(name);
    if (v === undefined) return dflt;
    if (!(allowed as readonly string[]).includes(v)) {
      throw new ConfigError("bad_flag_value", `--${name} / ${envName(name)}: expected ${allowed.join(" | ")}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  };
  return { get, list, bool, oneOf };
}

/** `--timeout`, bounded by what the kubelet allows the plugin. */
function readTimeoutMs(get: (name: string) => string | undefined): number {
  const timeoutRaw = get("timeout");
  const timeoutMs = timeoutRaw === undefined ? DEFAULT_TIMEOUT_MS : parseDurationMs("timeout", timeoutRaw);
  if (timeoutMs < 1000 || timeoutMs > 55_000) {
    throw new ConfigError("bad_flag_value", "--timeout must be between 1s and 55s (the kubelet kills the plugin at 60s)");
  }
  return timeoutMs;
}

/** The AWS identity variables that are set (they select and key the credentials). */
function identityEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const awsEnv: Record<string, string> = {};
  for (const k of IDENTITY_ENV) {
    const v = env[k];
    if (v !== undefined && v !== "") awsEnv[k] = v;
  }
  return awsEnv;
}

function base(
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
  flags: Map<string, string[]>,
  command: Command,
  commandArgs: readonly string[],
): Config {
  const { get, list, bool, oneOf } = settingReaders(env, flags);
  const timeoutMs = readTimeoutMs(get);
  const awsEnv = identityEnv(env);
  const ecrRoleArn = env[ENV_ECR_ROLE_ARN] || undefined;
  const rolesAnywhere = readRolesAnywhere(get, env);
  const sources: Record<string, SettingSource> = {};
  for (const name of Object.keys(FLAGS)) sources[name] = flags.has(name) ? "flag" : env[envName(name)] ? "env" : "default";
  return {
    ...readNetwork(env),
    command,
    commandArgs,
    sources,
    logLevel: oneOf("log-level", LOG_LEVELS, "warn"),
    logFormat: oneOf("log-format", LOG_FORMATS, "text"),
    output: oneOf("output", ["text", "json"] as const, "text"),
    registryAliases: list("registry-alias"),
    timeoutMs,
    attemptTimeoutMs: Math.min(DEFAULT_ATTEMPT_TIMEOUT_MS, timeoutMs),
    connectTimeoutMs: Math.min(DEFAULT_CONNECT_TIMEOUT_MS, timeoutMs),
    maxAttempts: DEFAULT_MAX_ATTEMPTS,
    cacheDir: get("cache-dir") ?? defaultCacheDir(env, platform),
    noCache: bool("no-cache"),
    ...(ecrRoleArn ? { ecrRoleArn } : {}),
    ...(rolesAnywhere ? { rolesAnywhere } : {}),
    awsEnv,
  };
}

/** Endpoint overrides and proxy settings, read here once; the AWS adapters take them from Config. */
function readNetwork(env: Readonly<Record<string, string | undefined>>): Pick<Config, "endpoints" | "proxyEnv" | "trustEnv"> {
  const endpoints: AwsEndpoints = {};
  const ecr = env.AWS_ENDPOINT_URL_ECR ?? env.AWS_ENDPOINT_URL;
  const ecrPublic = env.AWS_ENDPOINT_URL_ECR_PUBLIC ?? env.AWS_ENDPOINT_URL;
  const sts = env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
  if (ecr !== undefined) endpoints.ecr = ecr;
  if (ecrPublic !== undefined) endpoints.ecrPublic = ecrPublic;
  if (sts !== undefined) endpoints.sts = sts;
  const proxyEnv: Record<string, string> = {};
  for (const k of PROXY_ENV) {
    const v = env[k];
    if (v !== undefined) proxyEnv[k] = v;
  }
  const trustEnv: { SSL_CERT_FILE?: string; SSL_CERT_DIR?: string } = {};
  if (env.SSL_CERT_FILE) trustEnv.SSL_CERT_FILE = env.SSL_CERT_FILE;
  if (env.SSL_CERT_DIR) trustEnv.SSL_CERT_DIR = env.SSL_CERT_DIR;
  return { endpoints: Object.freeze(endpoints), proxyEnv: Object.freeze(proxyEnv), trustEnv: Object.freeze(trustEnv) };
}

function readRolesAnywhere(get: (name: string) => string | undefined, env: Readonly<Record<string, string | undefined>>): RolesAnywhereSettings | undefined {
  const required = ["roles-anywhere-certificate", "roles-anywhere-trust-anchor-arn", "roles-anywhere-profile-arn", "roles-anywhere-role-arn"] as const;
  const optional = [
    "roles-anywhere-private-key",
    "roles-anywhere-intermediates",
    "roles-anywhere-session-duration",
    "roles-anywhere-role-session-name",
    "roles-anywhere-private-key-passphrase-file",
  ] as const;
  const anySet = [...required, ...optional].some((n) => get(n) !== undefined);
  if (!anySet) return undefined;
  const missing = required.filter((n) => get(n) === undefined);
  if (missing.length > 0) {
    throw new ConfigError("incomplete_roles_anywhere", `IAM Roles Anywhere is partly configured; missing ${missing.map((n) => "--" + n).join(", ")}`);
  }
  const certificate = get("roles-anywhere-certificate")!;
  const durationRaw = get("roles-anywhere-session-duration");
  const sessionDurationSeconds =
    durationRaw === undefined ? DEFAULT_RA_SESSION_SECONDS : Math.round(parseDurationMs("roles-anywhere-session-duration", durationRaw) / 1000);
  const s: RolesAnywhereSettings = {
    certificate,
    // The helper reads the key from the certificate file when none is given (combined PEM).
    privateKey: get("roles-anywhere-private-key") ?? certificate,
    trustAnchorArn: get("roles-anywhere-trust-anchor-arn")!,
    profileArn: get("roles-anywhere-profile-arn")!,
    roleArn: get("roles-anywhere-role-arn")!,
    sessionDurationSeconds,
  };
  const intermediates = get("roles-anywhere-intermediates");
  if (intermediates) s.intermediates = intermediates;
  const name = get("roles-anywhere-role-session-name");
  if (name) s.roleSessionName = name;
  const pf = get("roles-anywhere-private-key-passphrase-file");
  if (pf) s.passphraseFile = pf;
  const pass = env[ENV_RA_PASSPHRASE];
  if (pass) s.passphrase = pass;
  const endpoint = env[ENV_ENDPOINT_ROLESANYWHERE];
  if (endpoint) s.endpoint = endpoint;
  return s;
}

/** A Go duration (`30s`, `1m30s`, `1.5h`, `500ms`; Go's own parser) or bare seconds (`30`) → milliseconds. No sign. */
export function parseDurationMs(flag: string, raw: string): number {
  const v = raw.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  try {
    if (/^[+-]/.test(v)) throw new GoDurationError(v);
    return Math.round(Number(parseGoDuration(v)) / 1e6);
  } catch {
    throw new ConfigError("bad_flag_value", `--${flag} / ${envName(flag)}: ${JSON.stringify(raw)} is not a duration (e.g. 30s, 1h)`);
  }
}
