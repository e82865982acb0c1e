// Roles Anywhere key material: read and validate certificate, intermediates, private key, duration and session name before any network call.

import { createHash, createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFile as fsReadFile } from "../shims/fs-promises.ts";
import { ConfigError } from "../../core/errors.ts";
import { fileUnreadable, pemCertificates } from "../../core/roles-anywhere-identity.ts";
import { resolveRolesAnywhereEndpoint } from "./endpoint.ts";
import { serialToDecimal } from "./sign.ts";
import type { RolesAnywhereDeps, RolesAnywhereMaterial, RolesAnywhereOptions } from "./types.ts";

/** Range of `durationSeconds` the service accepts (user guide, CreateSession; spec §1.3). */
export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 43200;
/** The helper's `--session-duration` default (`cmd/credentials.go:72`). */
export const DEFAULT_DURATION_SECONDS = 3600;
/** The user guide caps `X-Amz-X509-Chain` at 5 certificates. */
export const MAX_INTERMEDIATES = 5;
/** Curves accepted for EC keys: the ones the service documents (SHA-256 is used for both). */
const SUPPORTED_CURVES = new Set(["prime256v1", "secp384r1"]);
/** STS RoleSessionName pattern. */
const ROLE_SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

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
    throw fileUnreadable(field, path, cause);
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

/** The leaf must be valid now (by the injected clock). */
function checkValidity(leaf: X509Certificate, path: string, now: Date): void {
  const notBefore = leaf.validFromDate ?? new Date(leaf.validFrom);
  const notAfter = leaf.validToDate ?? new Date(leaf.validTo);
  if (now.getTime() < notBefore.getTime()) {
    throw new ConfigError("RA_CERT_NOT_YET_VALID", `certificate ${path} is not valid before ${notBefore.toISOString()}`);
  }
  if (now.getTime() > notAfter.getTime()) {
    throw new ConfigError("RA_CERT_EXPIRED", `certificate ${path} expired at ${notAfter.toISOString()}`);
  }
}

/** Intermediates: `intermediatesPath` (CERTIFICATE blocks only), else the rest of a fullchain certificate file; at most 5. */
async function loadChain(options: RolesAnywhereOptions, readFile: (p: string) => Promise<Buffer>, certs: Buffer[]): Promise<Buffer[]> {
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
  return chainDer;
}

/**
 * Read and validate everything CreateSession needs, before any network call: ARNs and endpoint,
 * duration and session name, the leaf (first certificate of `certificatePath`; valid at `deps.now()`),
 * the intermediates (`intermediatesPath`, else the rest of a fullchain certificate file; at most 5),
 * and the key (must be RSA or EC P-256/P-384, decryptable, and match the leaf).
 * Every failure is a ConfigError with a stable code; messages name the path or field, never file
 * contents or the passphrase.
 */
export async function loadRolesAnywhere(
  options: RolesAnywhereOptions,
  deps: Pick<RolesAnywhereDeps, "now" | "readFile" | "logger">,
): Promise<RolesAnywhereMaterial> {
  deps.logger?.addSecret(options.passphrase);
  const endpoint = resolveRolesAnywhereEndpoint(options);

  const durationSeconds = options.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  if (!Number.isInteger(durationSeconds) || durationSeconds < MIN_DURATION_SECONDS || durationSeconds > MAX_DURATION_SECONDS) {
    throw new ConfigError(
      "RA_DURATION_INVALID",
      `durationSeconds must be an integer from ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS} (got ${String(durationSeconds)})`,
    );
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

  checkValidity(leaf, options.certificatePath, deps.now());

  const chainDer = await loadChain(options, readFile, certs);

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
