// Roles Anywhere error answers → typed failures (restJson1 decoding, status mapping).

import { ConfigError, CredentialsError, PluginError, UpstreamError } from "../../core/errors.ts";
import { oneLine } from "../errors.ts";
import type { RolesAnywhereHttpResponse } from "./types.ts";

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

export function errorForResponse(response: RolesAnywhereHttpResponse): PluginError {
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
    return new ConfigError(
      "RA_REQUEST_INVALID",
      `Roles Anywhere CreateSession rejected the request (${detail}); check durationSeconds, roleSessionName and the ARNs`,
    );
  }
  if (type === "ResourceNotFoundException" || status === 404) {
    return new ConfigError("RA_NOT_FOUND", `Roles Anywhere CreateSession found no such resource (${detail}); check the trust anchor and profile ARNs`);
  }
  if (status >= 400) return new CredentialsError("RA_REJECTED", `Roles Anywhere CreateSession rejected with HTTP ${status} (${detail})`);
  return new UpstreamError("RA_UNEXPECTED_STATUS", `Roles Anywhere CreateSession answered HTTP ${status}`);
}
