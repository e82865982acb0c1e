// IAM Roles Anywhere: load and validate certificate + key + ARNs, call CreateSession, memoise the session (docs/roles-anywhere.md).

import { createHash, createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFile as fsReadFile } from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { ConfigError, CredentialsError, PluginError, UpstreamError } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import { serialToDecimal, signRolesAnywhereRequest } from "./sign.ts";
import { withRetries } from "../retry.ts";
import { pemCertificates } from "../../core/roles-anywhere-identity.ts";

/** Re-exported for callers of this module; the implementation sits on the start-up path. */
export { rolesAnywhereIdentity } from "../../core/roles-anywhere-identity.ts";

/** Range of `durationSeconds` the service accepts (user guide, CreateSession; spec §1.3). */
export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 43200;
/** The helper's `--session-duration` default (`cmd/credentials.go:72`). */
export const DEFAULT_DURATION_SECONDS = 3600;
/** The user guide caps `X-Amz-X509-Chain` at 5 certificates. */
export const MAX_INTERMEDIATES = 5;
/** Refresh this long before expiry: the SDK's own window (`@smithy/core` EXPIRATION_MS = 300000). */
export const REFRESH_WINDOW_MS = 5 * 60 * 1000;
/** Attempts per refresh, the first included. Bounded: the kubelet kills a plugin that hangs. */
export const MAX_ATTEMPTS = 3;
/** Per-attempt timeout unless the caller sets one; well below the kubelet's exec timeout. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 5000;
/** Backoff after attempt n (1-based) is random() * min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2^(n-1)) ("full jitter", src/aws/retry.ts). */
export const BACKOFF_BASE_MS = 200;
export const BACKOFF_CAP_MS = 2000;
/** A CreateSession answer is a few KiB; anything much larger is not one. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Service messages are echoed into one stderr line; keep them short. */
const MAX_SERVICE_MESSAGE_CHARS = 300;

/** Curves accepted for EC keys: the ones the service documents (SHA-256 is used for both). */
const SUPPORTED_CURVES = new Set(["prime256v1", "secp384r1"]);

/**
 * Partitions: region pattern and DNS suffix (helper `internal/endpoints/awsrulesfn/partitions.go`;
 * spec §1.2). `aws-eusc` is the European Sovereign Cloud.
 */
const PARTITIONS: Record<string, { regions: RegExp; dnsSuffix: string }> = {
  aws: { regions: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, dnsSuffix: "amazonaws.com" },
  "aws-cn": { regions: /^cn-\w+-\d+$/, dnsSuffix: "amazonaws.com.cn" },
  "aws-us-gov": { regions: /^us-gov-\w+-\d+$/, dnsSuffix: "amazonaws.com" },
  "aws-iso": { regions: /^us-iso-\w+-\d+$/, dnsSuffix: "c2s.ic.gov" },
  "aws-iso-b": { regions: /^us-isob-\w+-\d+$/, dnsSuffix: "sc2s.sgov.gov" },
  "aws-iso-e": { regions: /^eu-isoe-\w+-\d+$/, dnsSuffix: "cloud.adc-e.uk" },
  "aws-iso-f": { regions: /^us-isof-\w+-\d+$/, dnsSuffix: "csp.hci.ic.gov" },
  "aws-eusc": { regions: /^eusc-[a-z]+-\w+-\d+$/, dnsSuffix: "amazonaws.eu" },
};

/** Regions with a listed `rolesanywhere-fips` endpoint (helper `rolesanywhere/internal/endpoints/endpoints.go`). */
const FIPS_REGIONS = new Set(["us-east-1", "us-east-2", "us-west-1", "us-west-2", "us-gov-east-1", "us-gov-west-1"]);

const TRUST_ANCHOR_ARN = /^arn:([a-z0-9-]+):rolesanywhere:([a-z0-9-]+):(\d{12}):trust-anchor\/([A-Za-z0-9-]+)$/;
const PROFILE_ARN = /^arn:([a-z0-9-]+):rolesanywhere:([a-z0-9-]+):(\d{12}):profile\/([A-Za-z0-9-]+)$/;
/** IAM role path `/…/` of printable ASCII, then a name of 1–64 `[\w+=,.@-]` (IAM API reference). */
const ROLE_ARN = /^arn:([a-z0-9-]+):iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;
/** STS RoleSessionName pattern. */
const ROLE_SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/** What the operator configures. Paths are read with `deps.readFile`; the passphrase is a value, never a path. */
export interface RolesAnywhereOptions {
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  /** PEM (or DER) certificate. With several certificates, the first is the leaf and the rest are intermediates unless `intermediatesPath` is set. */
  certificatePath: string;
  /** PEM key: PKCS#8, PKCS#1, SEC1 or encrypted PKCS#8. Defaults to `certificatePath` (a combined file). */
  privateKeyPath?: string;
  /** PEM bundle of intermediates, sent in file order as `X-Amz-X509-Chain`; at most 5. */
  intermediatesPath?: string;
  /** Passphrase of an encrypted key. The caller reads it from a file or env var, never from a flag. */
  passphrase?: string;
  /** Requested session length, 900–43200 s; default 3600. The service caps it at the profile's duration. */
  durationSeconds?: number;
  /** Sent only when set; the profile must have acceptRoleSessionName. */
  roleSessionName?: string;
  /**
   * Use `rolesanywhere-fips.<region>…`. Default: true in `aws-us-gov`, false elsewhere. GovCloud
   * workloads are nearly always under FIPS 140 rules and both GovCloud regions list a FIPS host,
   * so FIPS is the safer default there; pass `false` to opt out. Asking for FIPS in a region without
   * a FIPS host is a ConfigError.
   */
  useFips?: boolean;
  /**
   * Value of AWS_ENDPOINT_URL_ROLESANYWHERE: replaces scheme, host and port only (and wins over
   * `useFips`); the path stays /sessions and the scope region stays the trust anchor's. Must be
   * `http(s)://host[:port]` with no path, query or user info.
   */
  endpointUrl?: string;
  /** Timeout of one HTTP attempt; default DEFAULT_ATTEMPT_TIMEOUT_MS. */
  attemptTimeoutMs?: number;
}

/** One HTTP exchange, as seen by the transport. Header names are lower case. */
export interface RolesAnywhereHttpRequest {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}
export interface RolesAnywhereHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}
/** Transport port: send one request, resolve with any status, reject only on network failure or abort. */
export type RolesAnywhereHttp = (request: RolesAnywhereHttpRequest) => Promise<RolesAnywhereHttpResponse>;

/** Everything with side effects, injected. Only `now` is required. */
export interface RolesAnywhereDeps {
  now: () => Date;
  /** Reads certificate, key and bundle files. Default: node:fs/promises readFile. */
  readFile?: (path: string) => Promise<Buffer>;
  /** Transport. Default: node:https / node:http with `agent` / `agents`. */
  send?: RolesAnywhereHttp;
  /** Agent for the default transport (the caller passes a proxy-aware one). */
  agent?: http.Agent;
  /** One agent per scheme (the caller's proxy-aware pair); wins over `agent`. */
  agents?: { http?: http.Agent; https?: http.Agent };
  /** Overall deadline; once aborted, no new attempt starts. */
  signal?: AbortSignal;
  /** Receives debug lines; secretAccessKey and sessionToken are registered with it as soon as they are parsed. */
  logger?: Logger;
  /** Wait between attempts. Default: a timer that ends early when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1). Default: Math.random. */
  random?: () => number;
}

/** Temporary credentials from CreateSession. */
export interface RolesAnywhereCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** An SDK v3 `AwsCredentialIdentityProvider` whose identities always carry sessionToken and expiration. */
export type RolesAnywhereCredentialProvider = () => Promise<RolesAnywhereCredentials>;

/** Where to send CreateSession and how to scope the signature. */
export interface RolesAnywhereEndpoint {
  scheme: "https" | "http";
  /** Host to connect to and to sign, `:port` included when not the scheme's default. */
  host: string;
  /** Credential-scope region: the trust anchor's region, also for FIPS and overrides. */
  region: string;
  partition: string;
  fips: boolean;
}

/** Validated, loaded inputs: what a CreateSession attempt needs, ready to sign. */
export interface RolesAnywhereMaterial {
  leaf: X509Certificate;
  certificateDer: Buffer;
  chainDer: Buffer[];
  privateKey: KeyObject;
  serialDecimal: string;
  /** Lower-case hex SHA-256 of the leaf's DER. */
  fingerprint256: string;
  endpoint: RolesAnywhereEndpoint;
  /** Query pairs (shape A: ARNs in the query, as the official helper sends them). */
  query: Array<[string, string]>;
  /** Exact body: `{"durationSeconds":N}` plus `roleSessionName` when configured. */
  body: string;
}

interface ParsedArn {
  partition: string;
  region: string;
  account: string;
}

function parseArn(value: string, field: string, pattern: RegExp, shape: string): ParsedArn {
  const m = pattern.exec(value ?? "");
  if (!m) throw new ConfigError("RA_ARN_INVALID", `${field} is not a valid ARN; expected ${shape}`);
  if (pattern === ROLE_ARN) return { partition: m[1]!, region: "", account: m[2]! };
  return { partition: m[1]!, region: m[2]!, account: m[3]! };
}

/**
 * Validate the three ARNs and derive the endpoint. The trust anchor's partition and region rule:
 * all three partitions must agree, the profile's region must equal the trust anchor's, and the
 * region must belong to the partition. Throws ConfigError (`RA_ARN_INVALID`,
 * `RA_ARN_PARTITION_MISMATCH`, `RA_ARN_REGION_MISMATCH`, `RA_FIPS_UNSUPPORTED`, `RA_ENDPOINT_INVALID`).
 */
export function resolveRolesAnywhereEndpoint(
  options: Pick<RolesAnywhereOptions, "trustAnchorArn" | "profileArn" | "roleArn" | "useFips" | "endpointUrl">,
): RolesAnywhereEndpoint {
  const ta = parseArn(options.trustAnchorArn, "trustAnchorArn", TRUST_ANCHOR_ARN, "arn:<partition>:rolesanywhere:<region>:<12-digit account>:trust-anchor/<id>");
  const profile = parseArn(options.profileArn, "profileArn", PROFILE_ARN, "arn:<partition>:rolesanywhere:<region>:<12-digit account>:profile/<id>");
  const role = parseArn(options.roleArn, "roleArn", ROLE_ARN, "arn:<partition>:iam::<12-digit account>:role/<path/name>");
  if (profile.partition !== ta.partition || role.partition !== ta.partition) {
    throw new ConfigError(
      "RA_ARN_PARTITION_MISMATCH",
      `trustAnchorArn, profileArn and roleArn must be in one partition (got ${ta.partition}, ${profile.partition}, ${role.partition})`,
    );
  }
  const partition = PARTITIONS[ta.partition];
  if (!partition) throw new ConfigError("RA_ARN_PARTITION_MISMATCH", `trustAnchorArn has unknown partition ${ta.partition}`);
  if (!partition.regions.test(ta.region)) {
    throw new ConfigError("RA_ARN_PARTITION_MISMATCH", `trustAnchorArn region ${ta.region} is not in partition ${ta.partition}`);
  }
  if (profile.region !== ta.region) {
    throw new ConfigError("RA_ARN_REGION_MISMATCH", `profileArn region ${profile.region} differs from trustAnchorArn region ${ta.region}`);
  }
  const region = ta.region;

  if (options.endpointUrl !== undefined && options.endpointUrl !== "") {
    let url: URL;
    try {
      url = new URL(options.endpointUrl);
    } catch (cause) {
      throw new ConfigError("RA_ENDPOINT_INVALID", "the Roles Anywhere endpoint override is not a URL", { cause });
    }
    // The path is always /sessions (the helper canonicalises it so); a prefix would break the signature.
    if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password || (url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
      throw new ConfigError("RA_ENDPOINT_INVALID", "the Roles Anywhere endpoint override must be http(s)://host[:port] with no path, query or credentials");
    }
    return { scheme: url.protocol === "http:" ? "http" : "https", host: url.host, region, partition: ta.partition, fips: false };
  }

  const explicitFips = options.useFips;
  const wantFips = explicitFips ?? ta.partition === "aws-us-gov";
  const fips = wantFips && FIPS_REGIONS.has(region);
  if (explicitFips === true && !fips) {
    throw new ConfigError("RA_FIPS_UNSUPPORTED", `Roles Anywhere has no FIPS endpoint in ${region}`);
  }
  const host = `${fips ? "rolesanywhere-fips" : "rolesanywhere"}.${region}.${partition.dnsSuffix}`;
  return { scheme: "https", host, region, partition: ta.partition, fips };
}

const PEM_ANY_BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/** Certificates of a PEM (or single DER) file, DER each. Never echoes the content in errors. */
function certificatesIn(data: Buffer, field: string, path: string): Buffer[] {
  const ders = pemCertificates(data);
  for (const der of ders) {
    try {
      new X509Certificate(der);
    } catch (cause) {
      throw new ConfigError("RA_CERT_INVALID", `${field} ${path} holds a certificate that cannot be parsed`, { cause });
    }
  }
  return ders;
}

async function readConfigured(readFile: (p: string) => Promise<Buffer>, path: string, field: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    const code = (cause as { code?: unknown })?.code;
    throw new ConfigError("RA_FILE_UNREADABLE", `cannot read ${field} ${path}${typeof code === "string" ? ` (${code})` : ""}`, { cause });
  }
}

function loadPrivateKey(data: Buffer, path: string, passphrase: string | undefined): KeyObject {
  const text = data.toString("latin1");
  const encrypted = text.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----") || /Proc-Type:\s*4,ENCRYPTED/.test(text);
  if (encrypted && (passphrase === undefined || passphrase === "")) {
    throw new ConfigError("RA_KEY_PASSPHRASE_MISSING", `private key ${path} is encrypted and no passphrase was given`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(encrypted ? { key: data, passphrase: passphrase ?? "" } : { key: data });
  } catch (cause) {
    const code = (cause as { code?: unknown })?.code;
    if (encrypted || code === "ERR_OSSL_BAD_DECRYPT") {
      throw new ConfigError("RA_KEY_PASSPHRASE_WRONG", `cannot decrypt private key ${path}: wrong passphrase`, { cause });
    }
    if (code === "ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED") {
      throw new ConfigError("RA_KEY_PASSPHRASE_MISSING", `private key ${path} is encrypted and no passphrase was given`, { cause });
    }
    throw new ConfigError("RA_KEY_INVALID", `private key ${path} is not a PKCS#8, PKCS#1 or SEC1 PEM key`, { cause });
  }
  if (key.asymmetricKeyType === "rsa") return key;
  if (key.asymmetricKeyType === "ec" && SUPPORTED_CURVES.has(String(key.asymmetricKeyDetails?.namedCurve))) return key;
  const what = key.asymmetricKeyType === "ec" ? `EC curve ${String(key.asymmetricKeyDetails?.namedCurve)}` : String(key.asymmetricKeyType);
  throw new ConfigError("RA_KEY_UNSUPPORTED", `private key ${path} is ${what}; Roles Anywhere needs RSA or EC P-256/P-384`);
}

/**
 * Read and validate everything CreateSession needs, before any network call: ARNs and endpoint,
 * duration and session name, the leaf (first certificate of `certificatePath`; valid at `deps.now()`),
 * the intermediates (`intermediatesPath`, else the rest of a fullchain certificate file; at most 5),
 * and the key (must be RSA or EC P-256/P-384, decryptable, and match the leaf).
 * Every failure is a ConfigError with a stable code; messages name the path or field, never file
 * contents or the passphrase.
 */
export async function loadRolesAnywhere(options: RolesAnywhereOptions, deps: Pick<RolesAnywhereDeps, "now" | "readFile" | "logger">): Promise<RolesAnywhereMaterial> {
  deps.logger?.addSecret(options.passphrase);
  const endpoint = resolveRolesAnywhereEndpoint(options);

  const durationSeconds = options.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  if (!Number.isInteger(durationSeconds) || durationSeconds < MIN_DURATION_SECONDS || durationSeconds > MAX_DURATION_SECONDS) {
    throw new ConfigError("RA_DURATION_INVALID", `durationSeconds must be an integer from ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS} (got ${String(durationSeconds)})`);
  }
  if (options.roleSessionName !== undefined && !ROLE_SESSION_NAME.test(options.roleSessionName)) {
    throw new ConfigError("RA_SESSION_NAME_INVALID", "roleSessionName must be 2–64 characters of [A-Za-z0-9_+=,.@-]");
  }

  const readFile = deps.readFile ?? ((p: string) => fsReadFile(p));
  const certFile = await readConfigured(readFile, options.certificatePath, "certificate");
  const certs = certificatesIn(certFile, "certificate", options.certificatePath);
  const certificateDer = certs[0];
  if (!certificateDer) throw new ConfigError("RA_NO_CERTIFICATE", `certificate ${options.certificatePath} holds no certificate`);
  const leaf = new X509Certificate(certificateDer);

  const now = deps.now();
  const notBefore = leaf.validFromDate ?? new Date(leaf.validFrom);
  const notAfter = leaf.validToDate ?? new Date(leaf.validTo);
  if (now.getTime() < notBefore.getTime()) {
    throw new ConfigError("RA_CERT_NOT_YET_VALID", `certificate ${options.certificatePath} is not valid before ${notBefore.toISOString()}`);
  }
  if (now.getTime() > notAfter.getTime()) {
    throw new ConfigError("RA_CERT_EXPIRED", `certificate ${options.certificatePath} expired at ${notAfter.toISOString()}`);
  }

  let chainDer: Buffer[];
  if (options.intermediatesPath) {
    const bundle = await readConfigured(readFile, options.intermediatesPath, "intermediates");
    const blocks = [...bundle.toString("latin1").matchAll(PEM_ANY_BEGIN)].map((m) => m[1]);
    if (blocks.some((b) => b !== "CERTIFICATE")) {
      throw new ConfigError("RA_CHAIN_INVALID", `intermediates ${options.intermediatesPath} may hold only CERTIFICATE blocks`);
    }
    chainDer = certificatesIn(bundle, "intermediates", options.intermediatesPath);
    if (chainDer.length === 0) throw new ConfigError("RA_CHAIN_INVALID", `intermediates ${options.intermediatesPath} holds no certificate`);
  } else {
    chainDer = certs.slice(1); // fullchain file: leaf first, then its intermediates
  }
  if (chainDer.length > MAX_INTERMEDIATES) {
    throw new ConfigError("RA_CHAIN_TOO_LONG", `at most ${MAX_INTERMEDIATES} intermediate certificates are allowed (got ${chainDer.length})`);
  }

  const keyPath = options.privateKeyPath ?? options.certificatePath;
  const keyFile = keyPath === options.certificatePath ? certFile : await readConfigured(readFile, keyPath, "private key");
  const privateKey = loadPrivateKey(keyFile, keyPath, options.passphrase);
  let matches: boolean;
  try {
    matches = leaf.checkPrivateKey(privateKey);
  } catch {
    matches = false;
  }
  if (!matches) throw new ConfigError("RA_KEY_MISMATCH", `private key ${keyPath} does not belong to certificate ${options.certificatePath}`);

  const body: Record<string, unknown> = { durationSeconds };
  if (options.roleSessionName !== undefined) body.roleSessionName = options.roleSessionName;
  return {
    leaf,
    certificateDer,
    chainDer,
    privateKey,
    serialDecimal: serialToDecimal(leaf.serialNumber),
    fingerprint256: createHash("sha256").update(certificateDer).digest("hex"),
    endpoint,
    query: [
      ["profileArn", options.profileArn],
      ["roleArn", options.roleArn],
      ["trustAnchorArn", options.trustAnchorArn],
    ],
    body: JSON.stringify(body),
  };
}

/**
 * Default transport over node:https (TLS ≥ 1.2) or node:http for an `http://` override, with an
 * optional agent (e.g. a proxy-aware one). The Host header is the signed host.
 */
export function createNodeHttpSend(agentOrAgents?: http.Agent | { http?: http.Agent; https?: http.Agent }): RolesAnywhereHttp {
  const pick = (protocol: string): http.Agent | undefined => {
    if (agentOrAgents instanceof http.Agent) return agentOrAgents;
    return protocol === "http:" ? agentOrAgents?.http : agentOrAgents?.https;
  };
  return (req) =>
    new Promise((resolve, reject) => {
      const url = new URL(req.url);
      const headers = { ...req.headers, "content-length": String(Buffer.byteLength(req.body, "utf8")) };
      const onResponse = (res: http.IncomingMessage): void => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            res.destroy(new Error("response too large"));
            return;
          }
          chunks.push(c);
        });
        res.on("error", reject);
        res.on("end", () => {
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks).toString("utf8") });
        });
      };
      const agent = pick(url.protocol);
      const request =
        url.protocol === "http:"
          ? http.request(url, { method: req.method, headers, signal: req.signal, ...(agent ? { agent } : {}) }, onResponse)
          : https.request(url, { method: req.method, headers, signal: req.signal, minVersion: "TLSv1.2", ...(agent ? { agent } : {}) }, onResponse);
      request.on("error", reject);
      request.end(req.body);
    });
}

/** One line, bounded, no control characters: safe to put into a PluginError message. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return flat.length > MAX_SERVICE_MESSAGE_CHARS ? flat.slice(0, MAX_SERVICE_MESSAGE_CHARS) + "…" : flat;
}

/** restJson1 error decoding (helper `deserializers.go:84`–`141`): X-Amzn-ErrorType, else body code/__type. */
export function parseRolesAnywhereError(response: RolesAnywhereHttpResponse): { type: string; message: string } {
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(response.body);
    if (parsed && typeof parsed === "object") json = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's HTML page, say): type and message stay empty.
  }
  const pick = (...vals: unknown[]): string => String(vals.find((v) => typeof v === "string" && v !== "") ?? "");
  let type = pick(response.headers["x-amzn-errortype"], json.code, json.__type);
  type = type.split(":")[0]!;
  if (type.includes("#")) type = type.slice(type.lastIndexOf("#") + 1);
  return { type: oneLine(type), message: oneLine(pick(json.message, json.Message)) };
}

function errorForResponse(response: RolesAnywhereHttpResponse): PluginError {
  const { type, message } = parseRolesAnywhereError(response);
  const status = response.status;
  const detail = `${type || `HTTP ${status}`}${message ? `: ${message}` : ""}`;
  if (status === 403 || type === "AccessDeniedException") {
    return new CredentialsError("RA_ACCESS_DENIED", `Roles Anywhere CreateSession denied (${detail}); check the trust anchor and certificate chain`);
  }
  if (status === 429 || /Throttl|TooManyRequests/i.test(type)) {
    return new UpstreamError("RA_THROTTLED", `Roles Anywhere CreateSession throttled (${detail})`, { retryable: true });
  }
  if (status >= 500) return new UpstreamError("RA_SERVER_ERROR", `Roles Anywhere CreateSession failed with HTTP ${status} (${detail})`, { retryable: true });
  if (type === "ValidationException" || status === 400) {
    return new ConfigError("RA_REQUEST_INVALID", `Roles Anywhere CreateSession rejected the request (${detail}); check durationSeconds, roleSessionName and the ARNs`);
  }
  if (type === "ResourceNotFoundException" || status === 404) {
    return new ConfigError("RA_NOT_FOUND", `Roles Anywhere CreateSession found no such resource (${detail}); check the trust anchor and profile ARNs`);
  }
  if (status >= 400) return new CredentialsError("RA_REJECTED", `Roles Anywhere CreateSession rejected with HTTP ${status} (${detail})`);
  return new UpstreamError("RA_UNEXPECTED_STATUS", `Roles Anywhere CreateSession answered HTTP ${status}`);
}

/** Map the wire shape (spec §1.5) to credentials, or throw UpstreamError `RA_BAD_RESPONSE`. Registers secrets first. */
function parseSuccess(body: string, logger: Logger | undefined): RolesAnywhereCredentials {
  const bad = (why: string, cause?: unknown) => new UpstreamError("RA_BAD_RESPONSE", `Roles Anywhere CreateSession answered without usable credentials (${why})`, { cause });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw bad("body is not JSON"); // no cause: the body holds secrets
  }
  const set = (parsed as { credentialSet?: unknown })?.credentialSet;
  const c = Array.isArray(set) ? (set[0] as { credentials?: unknown } | undefined)?.credentials : undefined;
  if (!c || typeof c !== "object") throw bad("credentialSet[0].credentials missing");
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = c as Record<string, unknown>;
  if (typeof secretAccessKey === "string") logger?.addSecret(secretAccessKey);
  if (typeof sessionToken === "string") logger?.addSecret(sessionToken);
  if (typeof accessKeyId !== "string" || accessKeyId === "") throw bad("accessKeyId missing");
  if (typeof secretAccessKey !== "string" || secretAccessKey === "") throw bad("secretAccessKey missing");
  if (typeof sessionToken !== "string" || sessionToken === "") throw bad("sessionToken missing");
  if (typeof expiration !== "string") throw bad("expiration is not a string");
  const when = new Date(expiration);
  if (Number.isNaN(when.getTime())) throw bad("expiration is not a timestamp");
  return { accessKeyId, secretAccessKey, sessionToken, expiration: when };
}

/** One signed POST /sessions with loaded material; signs afresh (the date changes between attempts). */
async function postCreateSession(material: RolesAnywhereMaterial, options: RolesAnywhereOptions, deps: RolesAnywhereDeps): Promise<RolesAnywhereCredentials> {
  const { endpoint } = material;
  const signed = signRolesAnywhereRequest({
    method: "POST",
    host: endpoint.host,
    path: "/sessions",
    query: material.query,
    body: material.body,
    date: deps.now(),
    region: endpoint.region,
    certificate: material.certificateDer,
    chain: material.chainDer,
    privateKey: material.privateKey,
    serialDecimal: material.serialDecimal,
    scheme: endpoint.scheme,
  });
  if (deps.signal?.aborted) throw new UpstreamError("RA_ABORTED", "Roles Anywhere CreateSession was cancelled (deadline reached)", { cause: deps.signal.reason });
  const timeout = AbortSignal.timeout(options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS);
  const signal = deps.signal ? AbortSignal.any([deps.signal, timeout]) : timeout;
  const send = deps.send ?? createNodeHttpSend(deps.agents ?? deps.agent);
  deps.logger?.debug("Roles Anywhere CreateSession", { host: endpoint.host, region: endpoint.region, serial: material.serialDecimal });
  let response: RolesAnywhereHttpResponse;
  try {
    response = await send({ url: signed.url, method: "POST", headers: signed.headers, body: material.body, signal });
  } catch (cause) {
    if (deps.signal?.aborted) throw new UpstreamError("RA_ABORTED", "Roles Anywhere CreateSession was cancelled (deadline reached)", { cause });
    if (timeout.aborted) throw new UpstreamError("RA_TIMEOUT", `Roles Anywhere CreateSession to ${endpoint.host} timed out`, { cause, retryable: true });
    const code = (cause as { code?: unknown })?.code;
    throw new UpstreamError("RA_NETWORK", `Roles Anywhere CreateSession to ${endpoint.host} failed${typeof code === "string" ? ` (${code})` : ""}`, { cause, retryable: true });
  }
  if (response.status < 200 || response.status > 299) throw errorForResponse(response);
  return parseSuccess(response.body, deps.logger);
}

/**
 * Load and validate (see `loadRolesAnywhere`), then make one CreateSession call: POST /sessions with
 * the ARNs in the query and `{"durationSeconds":N[,"roleSessionName":…]}` as the body, signed with
 * SigV4-X509. Failures: ConfigError for bad configuration (and 400/404 answers), CredentialsError
 * `RA_ACCESS_DENIED` for 403 (message carries the service's error type and message), UpstreamError
 * with `retryable` for 429/5xx/network/timeout, UpstreamError `RA_BAD_RESPONSE` for an unusable 2xx body.
 * No retries here; `fromRolesAnywhere` retries.
 */
export async function createSession(options: RolesAnywhereOptions, deps: RolesAnywhereDeps): Promise<RolesAnywhereCredentials> {
  const material = await loadRolesAnywhere(options, deps);
  return postCreateSession(material, options, deps);
}

/**
 * SDK v3 credential provider backed by Roles Anywhere. The session is memoised until
 * REFRESH_WINDOW_MS before its expiration (by `deps.now()`), and concurrent callers share one
 * refresh, so ECR calls never cause one CreateSession each. A refresh re-reads the files (certificates
 * rotate on disk), then makes at most MAX_ATTEMPTS attempts, retrying only retryable UpstreamErrors,
 * with full-jitter backoff, and stops as soon as `deps.signal` aborts. Errors are those of `createSession`.
 */
export function fromRolesAnywhere(options: RolesAnywhereOptions, deps: RolesAnywhereDeps): RolesAnywhereCredentialProvider {
  let cached: RolesAnywhereCredentials | undefined;
  let inflight: Promise<RolesAnywhereCredentials> | undefined;
  const refresh = async (): Promise<RolesAnywhereCredentials> => {
    const material = await loadRolesAnywhere(options, deps);
    cached = await withRetries(() => postCreateSession(material, options, deps), {
      maxAttempts: MAX_ATTEMPTS,
      signal: deps.signal ?? new AbortController().signal,
      baseDelayMs: BACKOFF_BASE_MS,
      maxDelayMs: BACKOFF_CAP_MS,
      ...(deps.random ? { random: deps.random } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      onRetry: (attempt, err, delayMs) => deps.logger?.debug("Roles Anywhere CreateSession retry", { attempt, delayMs, code: (err as UpstreamError).code }),
    });
    return cached;
  };

  const provider = async (): Promise<RolesAnywhereCredentials> => {
    if (cached && cached.expiration.getTime() - REFRESH_WINDOW_MS > deps.now().getTime()) return cached;
    inflight ??= refresh().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
  return provider satisfies AwsCredentialIdentityProvider;
}
