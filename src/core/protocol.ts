// Kubelet credential provider wire format (credentialprovider.kubelet.k8s.io v1, v1beta1, v1alpha1).

import { InputError } from "./errors.ts";

export const API_GROUP = "credentialprovider.kubelet.k8s.io";
/** Every version the kubelet still accepts; we answer in the one we were asked in. */
export const API_VERSIONS = [`${API_GROUP}/v1`, `${API_GROUP}/v1beta1`, `${API_GROUP}/v1alpha1`] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

export interface CredentialProviderRequest {
  apiVersion: ApiVersion;
  image: string;
  /** v1 only, kubelet ≥ 1.33 service-account mode: the pod's bound service-account token. */
  serviceAccountToken?: string;
  /** v1 only: the service-account annotations the kubelet config selected. */
  serviceAccountAnnotations?: Record<string, string>;
}

export interface AuthConfig {
  username: string;
  password: string;
}

export interface CredentialProviderResponse {
  apiVersion: ApiVersion;
  cacheKeyType: "Image" | "Registry" | "Global";
  /** Go duration string (`"6h0m0s"`, `"0s"`). */
  cacheDuration: string;
  auth: Record<string, AuthConfig>;
}

/** Refuse requests larger than this before parsing: a real one is well under 10 KiB (the SA token dominates). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Decode the kubelet's request. Unknown fields are ignored (forward compatibility); apiVersion,
 * kind and image are checked; service-account fields are read only from v1 requests.
 * Throws InputError with a stable code; the message never echoes the token.
 */
export function decodeRequest(bytes: Uint8Array | string): CredentialProviderRequest {
  const text = typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8");
  if (text.trim().length === 0) throw new InputError("empty_request", "no CredentialProviderRequest on stdin (empty input)");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Deliberately not echoing the parser's message: it can quote the input, which may hold a token.
    throw new InputError("bad_request_json", "stdin is not a JSON CredentialProviderRequest");
  }
  if (!isRecord(value)) throw new InputError("bad_request_json", "stdin is not a JSON object");
  const { apiVersion, kind, image } = value;
  if (typeof apiVersion !== "string" || !(API_VERSIONS as readonly string[]).includes(apiVersion)) {
    throw new InputError(
      "unsupported_api_version",
      `unsupported apiVersion ${JSON.stringify(String(apiVersion).slice(0, 80))}; expected one of ${API_VERSIONS.join(", ")}`,
    );
  }
  if (kind === undefined) {
    throw new InputError(
      "missing_kind",
      `the request has no "kind"; the kubelet sends {"kind":"CredentialProviderRequest","apiVersion":"${apiVersion}","image":…}`,
    );
  }
  if (kind !== "CredentialProviderRequest") {
    throw new InputError("bad_kind", `kind must be CredentialProviderRequest, got ${JSON.stringify(String(kind).slice(0, 80))}`);
  }
  if (typeof image !== "string") throw new InputError("bad_image", "the request's image is missing or not a string");
  const req: CredentialProviderRequest = { apiVersion: apiVersion as ApiVersion, image };
  if (apiVersion === `${API_GROUP}/v1`) {
    const { serviceAccountToken, serviceAccountAnnotations } = value;
    if (serviceAccountToken !== undefined && serviceAccountToken !== null) {
      if (typeof serviceAccountToken !== "string") throw new InputError("bad_sa_token", "serviceAccountToken is not a string");
      if (serviceAccountToken.length > 0) req.serviceAccountToken = serviceAccountToken;
    }
    if (serviceAccountAnnotations !== undefined && serviceAccountAnnotations !== null) {
      if (!isRecord(serviceAccountAnnotations) || !Object.values(serviceAccountAnnotations).every((v) => typeof v === "string")) {
        throw new InputError("bad_sa_annotations", "serviceAccountAnnotations is not a map of strings");
      }
      req.serviceAccountAnnotations = serviceAccountAnnotations as Record<string, string>;
    }
  }
  return req;
}

/**
 * Encode the response as exactly one JSON object and a newline, with only the fields a strict
 * (≥ 1.32) kubelet accepts: kind, apiVersion, cacheKeyType, cacheDuration, auth{username,password}.
 */
export function encodeResponse(res: CredentialProviderResponse): string {
  const auth: Record<string, AuthConfig> = {};
  for (const [k, v] of Object.entries(res.auth)) auth[k] = { username: v.username, password: v.password };
  return (
    JSON.stringify({
      kind: "CredentialProviderResponse",
      apiVersion: res.apiVersion,
      cacheKeyType: res.cacheKeyType,
      cacheDuration: res.cacheDuration,
      auth,
    }) + "\n"
  );
}
