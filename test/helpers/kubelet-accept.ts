// The kubelet's checks on a plugin's stdout (≥ 1.32, strict decoding), re-typed for tests. Validated against kubelet-responses.json.

import { parseStrictJson } from "../../src/kubelet/strict-json.ts";

export interface AcceptInput {
  stdout: string;
  exitCode: number;
  configuredApiVersion: string;
  serviceAccountTokenSent?: string;
  tokenAttributesCacheType?: "Token" | "ServiceAccount";
}

export type Verdict = { accepted: true; response: any } | { accepted: false; reason: string };

/** Strict JSON as sigs.k8s.io/json reads it: one value, duplicate keys reported (the kubelet-config parser, shared). */
function strictParse(text: string): { value: unknown; error?: string } {
  const duplicates: string[] = [];
  try {
    const value = parseStrictJson(text, duplicates);
    return duplicates.length ? { value, error: `duplicate field "${duplicates[0]}"` } : { value };
  } catch (e) {
    return { value: undefined, error: (e as Error).message };
  }
}

/** Go `time.ParseDuration`. */
export function isGoDuration(s: string): boolean {
  if (s === "0" || s === "+0" || s === "-0") return true;
  return /^[+-]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(s);
}

const RESPONSE_FIELDS = new Set(["kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"]);

/** Apply the kubelet's checks in its order (kubelet-protocol.md §5). */
export function kubeletAccepts(input: AcceptInput): Verdict {
  if (input.exitCode !== 0) return { accepted: false, reason: "non-zero exit" };
  const text = input.stdout;
  // Step 1: exactly one JSON value (encoding/json: leading/trailing whitespace only; a BOM is not whitespace).
  let plain: any;
  try {
    plain = JSON.parse(text);
  } catch {
    return { accepted: false, reason: "error reading GVK from response" };
  }
  if (text.charCodeAt(0) === 0xfeff) return { accepted: false, reason: "BOM" };
  if (typeof plain !== "object" || plain === null || Array.isArray(plain)) return { accepted: false, reason: "not an object" };
  // Step 2: apiVersion equality.
  if (plain.apiVersion !== input.configuredApiVersion) return { accepted: false, reason: "apiVersion mismatch" };
  // Step 3: strict decode.
  if (text.trimStart()[0] !== "{") return { accepted: false, reason: "not JSON object" };
  const { value, error } = strictParse(text);
  if (error) return { accepted: false, reason: `strict decoding: ${error}` };
  const obj = value as Record<string, any>;
  if (typeof obj.kind !== "string") return { accepted: false, reason: "kind missing" };
  if (obj.kind !== "CredentialProviderResponse") return { accepted: false, reason: `unexpected kind ${obj.kind}` };
  for (const k of Object.keys(obj)) if (!RESPONSE_FIELDS.has(k)) return { accepted: false, reason: `unknown field ${k}` };
  if (obj.cacheDuration !== undefined && obj.cacheDuration !== null) {
    if (typeof obj.cacheDuration !== "string" || !isGoDuration(obj.cacheDuration)) return { accepted: false, reason: "bad cacheDuration" };
  }
  if (obj.auth !== undefined && obj.auth !== null) {
    if (typeof obj.auth !== "object" || Array.isArray(obj.auth)) return { accepted: false, reason: "auth not an object" };
    for (const entry of Object.values(obj.auth)) {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return { accepted: false, reason: "auth entry not an object" };
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (k !== "username" && k !== "password") return { accepted: false, reason: `unknown auth field ${k}` };
        if (typeof v !== "string" && v !== null) return { accepted: false, reason: `auth ${k} not a string` };
      }
    }
  }
  if (typeof obj.cacheKeyType !== "string" && obj.cacheKeyType !== undefined) return { accepted: false, reason: "cacheKeyType not a string" };
  // Step 4: token echo.
  if (input.serviceAccountTokenSent && input.tokenAttributesCacheType !== "Token") {
    for (const e of Object.values(obj.auth ?? {}) as any[]) {
      if (e.password === input.serviceAccountTokenSent) return { accepted: false, reason: "service account token echoed" };
    }
  }
  // Step 5: cacheKeyType.
  if (!["Image", "Registry", "Global"].includes(obj.cacheKeyType)) return { accepted: false, reason: "invalid cacheKeyType" };
  return { accepted: true, response: obj };
}
