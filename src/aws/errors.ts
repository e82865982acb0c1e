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

/** OpenSSL's verdicts on a server certificate (Node's error codes): the chain does not end at a trusted root, or is not valid now. */
const TLS_TRUST_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REVOKED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);
const TLS_TIME_CODES = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);

/** DNS failures: the name of the endpoint does not resolve. */
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME"]);

interface SdkLikeError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> };
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
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const unparsable = unparsableAnswer(e, status);
  // An answer that is not JSON (a proxy's HTML page, an XML error): keep the HTTP status and any
  // AWS error type from the headers; the parser's message says nothing useful.
  const name = unparsable ? (unparsable.type ?? "") : (e.name ?? "Error");
  const msg = unparsable ? unparsable.note : oneLine(e.message ?? String(err));
  /** `Type: message`, or only the note for an untyped unparsable answer. */
  const detail = name ? `${name}: ${msg}` : msg;
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
    const clock =
      /signature expired|clock|skew|not yet current/i.test(msg) || name === "InvalidSignatureException" ? "; if the node clock is off, fix NTP" : "";
    return new CredentialsError("access_denied", `${what} was refused: ${detail}; ${hint}${clock}`, { cause: err });
  }
  if (THROTTLING.has(name) || status === 429) {
    return new UpstreamError("throttled", `${what} was throttled (${name || `HTTP ${status}`}); ${hint}`, { cause: err, retryable: true });
  }
  if ((status !== undefined && status >= 500) || e.$fault === "server") {
    return new UpstreamError("upstream_5xx", unparsable ? `${what} failed: ${detail}` : `${what} failed with HTTP ${status ?? "5xx"} ${detail}`, {
      cause: err,
      retryable: true,
    });
  }
  const code = e.code ?? (e.cause as SdkLikeError | undefined)?.code;
  const tls = code !== undefined ? untrustedCertificate(code, what, msg, err) : undefined;
  if (tls) return tls;
  if (name === "TimeoutError" || (code !== undefined && NETWORK_CODES.has(code))) {
    // A network problem, not an IAM one: say so, and what lies on the path.
    const why =
      code !== undefined && DNS_CODES.has(code)
        ? "the endpoint's name does not resolve: check the node's DNS, and for private subnets the VPC endpoint's private DNS"
        : code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET"
          ? "the connection was cut: check proxies and firewalls between this node and AWS"
          : "no connection could be made: check routes, security groups and firewalls, VPC endpoints, and the proxy (HTTPS_PROXY, NO_PROXY)";
    return new UpstreamError("network", `${what} could not be reached, a network problem (${code ?? name}: ${msg}); ${why}`, { cause: err, retryable: true });
  }
  if (status !== undefined && status < 300) {
    // The SDK could not read a 2xx answer (truncated or not JSON): a broken upstream or proxy.
    return new UpstreamError("bad_response", `${what} returned an unreadable answer (HTTP ${status}); check proxies between this node and AWS`, {
      cause: err,
      retryable: true,
    });
  }
  if (status !== undefined) {
    return new UpstreamError("upstream_4xx", unparsable ? `${what} failed: ${detail}; ${hint}` : `${what} failed with HTTP ${status} ${detail}; ${hint}`, {
      cause: err,
    });
  }
  return new UpstreamError("upstream", `${what} failed: ${detail}; ${hint}`, { cause: err });
}

/**
 * A server certificate OpenSSL refused: not retried, the same certificate meets the same store. Node's own advice (run
 * node with --use-system-ca) is no use to an operator of this executable, which already reads the node's store
 * (aws/trust.ts); say what to change instead.
 */
export function untrustedCertificate(code: string, what: string, msg: string, err: unknown): PluginError | undefined {
  if (!TLS_TRUST_CODES.has(code) && !TLS_TIME_CODES.has(code)) return undefined;
  const advice = TLS_TIME_CODES.has(code)
    ? "if the node clock is off, fix NTP"
    : "a TLS-inspecting proxy or a private endpoint needs its CA in the node's trust store (update-ca-certificates, update-ca-trust; on Windows the LocalMachine Root store), " +
      "or in a file named by SSL_CERT_FILE or NODE_EXTRA_CA_CERTS in the provider's env; --log-level=debug prints the trust store in use";
  const why = oneLine(msg.replace(/;? ?if the root CA is installed locally, try running Node\.js with --use-system-ca/i, ""));
  return new UpstreamError("tls_untrusted", `${what}: the server's certificate was not accepted (${code}: ${why}); ${advice}`, { cause: err });
}

/**
 * The SDK could not parse the answer (it throws its JSON parser's SyntaxError with the response
 * attached): the AWS error type from `x-amzn-errortype`, if any, and a note with status and content type.
 */
function unparsableAnswer(e: SdkLikeError, status: number | undefined): { type?: string; note: string } | undefined {
  if (e.name !== "SyntaxError" && !/Deserialization error/.test(e.message ?? "")) return undefined;
  const headers = e.$response?.headers ?? {};
  const header = (n: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === n)?.[1];
  const raw = header("x-amzn-errortype");
  const type = raw ? oneLine(raw.split(":")[0]!.split("#").pop()!, 100) : undefined;
  const ct = header("content-type");
  return {
    ...(type ? { type } : {}),
    note: `HTTP ${status ?? "?"}, an answer that is not AWS JSON${ct ? ` (${oneLine(ct, 60)})` : ""}: a proxy, captive portal or wrong endpoint in between?`,
  };
}
