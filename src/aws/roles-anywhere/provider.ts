// IAM Roles Anywhere as an SDK credential provider: CreateSession with loaded material, retried, memoised until near expiry (docs/roles-anywhere.md).

import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { UpstreamError } from "../../core/errors.ts";
import { untrustedCertificate } from "../errors.ts";
import { RETRY_POLICY_ROLES_ANYWHERE, loggedAttempt, withRetries } from "../retry.ts";
import { errorForResponse } from "./errors.ts";
import { loadRolesAnywhere } from "./material.ts";
import { parseSuccess } from "./response.ts";
import { signRolesAnywhereRequest } from "./sign.ts";
import { createNodeHttpSend } from "./transport.ts";
import type {
  RolesAnywhereCredentialProvider,
  RolesAnywhereCredentials,
  RolesAnywhereDeps,
  RolesAnywhereHttpResponse,
  RolesAnywhereMaterial,
  RolesAnywhereOptions,
} from "./types.ts";

export type * from "./types.ts";
export { resolveRolesAnywhereEndpoint } from "./endpoint.ts";
export { loadRolesAnywhere, MIN_DURATION_SECONDS, MAX_DURATION_SECONDS, DEFAULT_DURATION_SECONDS, MAX_INTERMEDIATES } from "./material.ts";
export { parseRolesAnywhereError } from "./errors.ts";
export { createNodeHttpSend } from "./transport.ts";
/** Re-exported for callers of this module; the implementation sits on the start-up path. */
export { rolesAnywhereIdentity } from "../../core/roles-anywhere-identity.ts";

/** Refresh this long before expiry: the SDK's own window (`@smithy/core` EXPIRATION_MS = 300000). */
export const REFRESH_WINDOW_MS = 5 * 60 * 1000;
/** Per-attempt timeout unless the caller sets one; well below the kubelet's exec timeout. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 5000;
/** Attempts per refresh and backoff: the Roles Anywhere policy in aws/retry.ts. */
export const { maxAttempts: MAX_ATTEMPTS, baseDelayMs: BACKOFF_BASE_MS, maxDelayMs: BACKOFF_CAP_MS } = RETRY_POLICY_ROLES_ANYWHERE;

/** One signed POST /sessions with loaded material; signs afresh (the date changes between attempts). */
async function postCreateSession(
  material: RolesAnywhereMaterial,
  options: RolesAnywhereOptions,
  deps: RolesAnywhereDeps,
  attempt = 1,
): Promise<RolesAnywhereCredentials> {
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
  if (deps.signal?.aborted)
    throw new UpstreamError("RA_ABORTED", "Roles Anywhere CreateSession was cancelled (deadline reached)", { cause: deps.signal.reason });
  const timeout = AbortSignal.timeout(options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS);
  const signal = deps.signal ? AbortSignal.any([deps.signal, timeout]) : timeout;
  const send = deps.send ?? createNodeHttpSend(deps.agents ?? deps.agent);
  deps.logger?.debug("Roles Anywhere CreateSession", { host: endpoint.host, region: endpoint.region, serial: material.serialDecimal });
  let response: RolesAnywhereHttpResponse;
  try {
    const headers = options.userAgent ? { ...signed.headers, "user-agent": options.userAgent } : signed.headers;
    response = await loggedAttempt(
      deps.logger,
      `Roles Anywhere CreateSession in ${endpoint.region} (${endpoint.scheme}://${endpoint.host})`,
      attempt,
      () => send({ url: signed.url, method: "POST", headers, body: material.body, signal }),
      (r) => r.status,
    );
  } catch (cause) {
    if (deps.signal?.aborted) throw new UpstreamError("RA_ABORTED", "Roles Anywhere CreateSession was cancelled (deadline reached)", { cause });
    if (timeout.aborted) throw new UpstreamError("RA_TIMEOUT", `Roles Anywhere CreateSession to ${endpoint.host} timed out`, { cause, retryable: true });
    const code = (cause as { code?: unknown })?.code;
    const what = `Roles Anywhere CreateSession in ${endpoint.region} (${endpoint.scheme}://${endpoint.host})`;
    const tls = typeof code === "string" ? untrustedCertificate(code, what, String((cause as Error)?.message ?? cause), cause) : undefined;
    if (tls) throw tls;
    throw new UpstreamError("RA_NETWORK", `Roles Anywhere CreateSession to ${endpoint.host} failed${typeof code === "string" ? ` (${code})` : ""}`, {
      cause,
      retryable: true,
    });
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
    cached = await withRetries((attempt) => postCreateSession(material, options, deps, attempt), {
      ...RETRY_POLICY_ROLES_ANYWHERE,
      signal: deps.signal ?? new AbortController().signal,
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
