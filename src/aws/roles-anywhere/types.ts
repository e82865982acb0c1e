// The Roles Anywhere credential provider's shapes: options, injected dependencies, transport, endpoint, loaded material.

import type { KeyObject, X509Certificate } from "node:crypto";
import type * as http from "node:http";
import type { Logger } from "../../core/log.ts";

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
