// SDK and network failures → our typed errors, in one safe line that names what to check.

import { CredentialsError, PluginError, UpstreamError } from "../core/errors.ts";

const CREDENTIAL_ERRORS = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "ExpiredTokenException",
  "ExpiredToken",
  "InvalidIdentityToken",
  "IDPRejectedClaim",
  "IDPCommunicationError",
  "MalformedPolicyDocument",
  "RegionDisabledException",
]);

const THROTTLING = new Set(["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"]);

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
]);

interface SdkLikeError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
  $retryable?: unknown;
  cause?: unknown;
}

/** One line, bounded, no control characters: upstream text must not flood or split the kubelet log. */
export function oneLine(s: string, max = 300): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const t = s.replace(/[\s\u0000-\u001f\u007f]+/g, " ").trim();
  return t.length > max ? t.slice(0, max) + "…" : t;
}

/**
 * Map an error from an AWS call to a PluginError. `what` names the call and where it went
 * (e.g. `ECR GetAuthorizationToken in cn-northwest-1 (https://api.ecr…)`), `hint` what to check.
 * Already-typed PluginErrors pass through.
 */
export function mapAwsError(err: unknown, what: string, hint: string, signal?: AbortSignal): PluginError {
  if (err instanceof PluginError) return err;
  const e = (err ?? {}) as SdkLikeError;
  const name = e.name ?? "Error";
  const status = e.$metadata?.httpStatusCode;
  const msg = oneLine(e.message ?? String(err));
  if (signal?.aborted || name === "AbortError") {
    return new UpstreamError("timeout", `${what} timed out (overall deadline reached); ${hint}`, { cause: err });
  }
  if (name === "CredentialsProviderError" || name === "ProviderError") {
    return new CredentialsError(
      "no_credentials",
      `no AWS credentials for ${what}: ${msg}; checked environment, shared config/credentials files (AWS_PROFILE), web identity, container and EC2 instance metadata (IMDS)`,
      { cause: err },
    );
  }
  if (CREDENTIAL_ERRORS.has(name) || status === 401 || status === 403) {
    // AWS reports a skewed clock as a signature problem; say what to check.
    const clock = /signature expired|clock|skew|not yet current/i.test(msg) || name === "InvalidSignatureException" ? "; if the node clock is off, fix NTP" : "";
    return new CredentialsError("access_denied", `${what} was refused: ${name}: ${msg}; ${hint}${clock}`, { cause: err });
  }
  if (THROTTLING.has(name) || status === 429) {
    return new UpstreamError("throttled", `${what} was throttled (${name}); ${hint}`, { cause: err, retryable: true });
  }
  if ((status !== undefined && status >= 500) || e.$fault === "server") {
    return new UpstreamError("upstream_5xx", `${what} failed with HTTP ${status ?? "5xx"} ${name}: ${msg}`, { cause: err, retryable: true });
  }
  const code = e.code ?? (e.cause as SdkLikeError | undefined)?.code;
  if (name === "TimeoutError" || (code !== undefined && NETWORK_CODES.has(code))) {
    return new UpstreamError("network", `${what} could not be reached (${code ?? name}: ${msg}); ${hint}`, { cause: err, retryable: true });
  }
  if (status !== undefined && status < 300) {
    // The SDK could not read a 2xx answer (truncated or not JSON): a broken upstream or proxy.
    return new UpstreamError("bad_response", `${what} returned an unreadable answer (HTTP ${status}); check proxies between this node and AWS`, { cause: err, retryable: true });
  }
  if (status !== undefined) {
    return new UpstreamError("upstream_4xx", `${what} failed with HTTP ${status} ${name}: ${msg}; ${hint}`, { cause: err });
  }
  return new UpstreamError("upstream", `${what} failed: ${name}: ${msg}; ${hint}`, { cause: err });
}
