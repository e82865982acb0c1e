// A successful CreateSession answer → credentials; secrets are registered with the logger before anything else.

import { UpstreamError } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import type { RolesAnywhereCredentials } from "./types.ts";

/** Map the wire shape (spec §1.5) to credentials, or throw UpstreamError `RA_BAD_RESPONSE`. Registers secrets first. */
export function parseSuccess(body: string, logger: Logger | undefined): RolesAnywhereCredentials {
  const bad = (why: string, cause?: unknown) =>
    new UpstreamError("RA_BAD_RESPONSE", `Roles Anywhere CreateSession answered without usable credentials (${why})`, { cause });
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
