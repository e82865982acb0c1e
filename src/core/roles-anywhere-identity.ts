// Roles Anywhere's token-cache identity, computed on the start-up path: no node:crypto, no network.

import { readFileSync } from "node:fs";
import { ConfigError } from "./errors.ts";
import { sha256Hex } from "./sha256.ts";

const PEM_CERT = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/** DER of each certificate in a PEM file, in file order; a lone DER certificate is taken as is. Not validated. */
export function pemCertificates(data: Buffer): Buffer[] {
  const text = data.toString("latin1");
  const ders: Buffer[] = [...text.matchAll(PEM_CERT)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ""), "base64"));
  if (ders.length === 0 && data[0] === 0x30 && !text.includes("-----BEGIN")) ders.push(data);
  return ders;
}

/** The one error for a Roles Anywhere file that cannot be read: names the file and the errno code, never its content. */
export function fileUnreadable(field: string, path: string, cause: unknown): ConfigError {
  const code = (cause as { code?: unknown })?.code;
  return new ConfigError("RA_FILE_UNREADABLE", `cannot read ${field} ${path}${typeof code === "string" ? ` (${code})` : ""}`, { cause });
}

/**
 * Stable, network-free identity of a Roles Anywhere configuration, for the token cache key:
 * `rolesanywhere|<trustAnchorArn>|<profileArn>|<roleArn>|sha256:<hex of the leaf's DER>`. The leaf is
 * the first certificate of `certificatePath`, so a leaf-only file and a full-chain file of the same
 * leaf share tokens, and a rotated certificate is a new identity. Throws ConfigError
 * (`RA_FILE_UNREADABLE`, `RA_NO_CERTIFICATE`); the certificate itself is validated when a session is made.
 */
export function rolesAnywhereIdentity(
  options: { trustAnchorArn: string; profileArn: string; roleArn: string; certificatePath: string },
  deps: { readFileSync?: (path: string) => Buffer } = {},
): string {
  const read = deps.readFileSync ?? ((p: string) => readFileSync(p));
  let data: Buffer;
  try {
    data = read(options.certificatePath);
  } catch (cause) {
    throw fileUnreadable("certificate", options.certificatePath, cause);
  }
  const leaf = pemCertificates(data)[0];
  if (!leaf) throw new ConfigError("RA_NO_CERTIFICATE", `certificate ${options.certificatePath} holds no certificate`);
  return ["rolesanywhere", options.trustAnchorArn, options.profileArn, options.roleArn, `sha256:${sha256Hex(leaf)}`].join("|");
}
