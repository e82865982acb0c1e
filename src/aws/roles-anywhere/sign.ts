// Pure SigV4-X509 signer for IAM Roles Anywhere CreateSession (docs/roles-anywhere.md §2): no I/O, no clock.

import { createHash, sign as cryptoSign, constants as cryptoConstants, type KeyObject } from "node:crypto";
import { ConfigError } from "../../core/errors.ts";

/** Signing name of the Roles Anywhere data plane (helper `signer.go:68`). */
export const ROLES_ANYWHERE_SERVICE = "rolesanywhere";

/** The two algorithm names the service knows. SHA-256 is used for every EC curve (spec §2.9). */
export type RolesAnywhereAlgorithm = "AWS4-X509-RSA-SHA256" | "AWS4-X509-ECDSA-SHA256";

/** What to sign. Every value is used exactly as given; nothing is read from the environment. */
export interface RolesAnywhereSignInput {
  /** HTTP method; CreateSession is always `POST`. */
  method: string;
  /** Host to sign and send, including `:port` when it is not the scheme's default. */
  host: string;
  /** URI path; CreateSession is always `/sessions`. */
  path: string;
  /** Query pairs in any order; they are RFC 3986-encoded and sorted here. */
  query: ReadonlyArray<readonly [string, string]>;
  /** The exact body string; its UTF-8 bytes are hashed and must be sent unchanged. */
  body: string;
  /** Signing time; truncated to whole seconds, UTC. */
  date: Date;
  /** Credential-scope region: always the plain region, also for FIPS or overridden endpoints. */
  region: string;
  /** Leaf certificate, DER. */
  certificate: Buffer;
  /** Intermediate certificates, DER, in bundle order (sent as `X-Amz-X509-Chain`). */
  chain: readonly Buffer[];
  /** The leaf's private key: RSA or EC. */
  privateKey: KeyObject;
  /** Decimal serial of the leaf. Computed from `certificate` by the caller (see `serialToDecimal`). */
  serialDecimal: string;
  /** URL scheme for `url`; `https` unless a test or override endpoint says otherwise. */
  scheme?: "https" | "http";
}

/** Every intermediate value of the signature, named as in the vectors' `expected` objects. */
export interface RolesAnywhereSignedRequest {
  url: string;
  algorithm: RolesAnywhereAlgorithm;
  x509: string;
  x509Chain: string | null;
  serialDecimal: string;
  amzDate: string;
  canonicalQueryString: string;
  canonicalHeaders: string;
  signedHeaders: string;
  payloadHash: string;
  canonicalRequest: string;
  canonicalRequestHash: string;
  credentialScope: string;
  stringToSign: string;
  signature: string;
  authorization: string;
  authorizationWithoutSignature: string;
  /** Headers with their conventional spelling, as in the vectors. */
  requestHeaders: Record<string, string>;
  /** The same headers in lower case: what to hand to the HTTP stack. */
  headers: Record<string, string>;
}

/**
 * RFC 3986 percent-encoding: keep `A-Z a-z 0-9 - _ . ~`, encode every other UTF-8 byte as `%XX`
 * (upper-case hex). Written by hand because URLSearchParams uses `+` for spaces and keeps `*`.
 */
export function encodeRfc3986(value: string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** Canonical query string: each name and value RFC 3986-encoded, pairs sorted by name then value, joined with `&`. */
export function canonicalQueryString(query: ReadonlyArray<readonly [string, string]>): string {
  return query
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/** `YYYYMMDDTHHMMSSZ` for `X-Amz-Date`. */
export function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

/** Decimal form of Node's hex `X509Certificate.serialNumber` (spec §2.7: the service wants decimal, never hex). */
export function serialToDecimal(hexSerial: string): string {
  return BigInt("0x" + hexSerial.replace(/:/g, "")).toString(10);
}

/**
 * Algorithm name for a private key. Throws ConfigError `RA_KEY_UNSUPPORTED` for anything other than
 * RSA (PKCS#1 v1.5) and EC; RSA-PSS-only keys and Ed25519 are not accepted by the service.
 */
export function algorithmForKey(key: KeyObject): RolesAnywhereAlgorithm {
  if (key.asymmetricKeyType === "rsa") return "AWS4-X509-RSA-SHA256";
  if (key.asymmetricKeyType === "ec") return "AWS4-X509-ECDSA-SHA256";
  throw new ConfigError("RA_KEY_UNSUPPORTED", `Roles Anywhere supports RSA and EC keys only, not ${key.asymmetricKeyType ?? "unknown"}`);
}

const sha256Hex = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

/** Header value canonicalisation: trim, and collapse runs of spaces (SigV4). */
const canonicalValue = (v: string): string => v.trim().replace(/\s+/g, " ");

/** The string to sign, signed with the leaf's key (PKCS#1 v1.5 for RSA, DER-encoded ECDSA), as hex. */
function signHex(algorithm: RolesAnywhereAlgorithm, key: KeyObject, stringToSign: string): string {
  const data = Buffer.from(stringToSign, "utf8");
  const raw =
    algorithm === "AWS4-X509-RSA-SHA256"
      ? cryptoSign("sha256", data, { key, padding: cryptoConstants.RSA_PKCS1_PADDING })
      : cryptoSign("sha256", data, { key, dsaEncoding: "der" });
  return raw.toString("hex");
}

/**
 * Sign a CreateSession request with SigV4-X509. Deterministic for RSA; ECDSA signatures are
 * randomised but verify against the leaf's public key. The signed headers are exactly
 * `content-type;host;x-amz-date;x-amz-x509[;x-amz-x509-chain]` (spec §2.3). The string to sign is
 * handed to `crypto.sign` unhashed: it hashes once itself (spec §2.6).
 * Throws ConfigError `RA_KEY_UNSUPPORTED` for a key that is neither RSA nor EC.
 */
export function signRolesAnywhereRequest(input: RolesAnywhereSignInput): RolesAnywhereSignedRequest {
  const algorithm = algorithmForKey(input.privateKey);
  const amzDate = formatAmzDate(input.date);
  const shortDate = amzDate.slice(0, 8);
  const x509 = input.certificate.toString("base64");
  const x509Chain = input.chain.length > 0 ? input.chain.map((c) => c.toString("base64")).join(",") : null;

  const signed: Array<[string, string]> = [
    ["content-type", "application/json"],
    ["host", input.host],
    ["x-amz-date", amzDate],
    ["x-amz-x509", x509],
  ];
  if (x509Chain !== null) signed.push(["x-amz-x509-chain", x509Chain]);
  signed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const query = canonicalQueryString(input.query);
  const canonicalHeaders = signed.map(([k, v]) => `${k}:${canonicalValue(v)}`).join("\n");
  const signedHeaders = signed.map(([k]) => k).join(";");
  const payloadHash = sha256Hex(Buffer.from(input.body, "utf8"));
  const canonicalRequest = [input.method, input.path, query, canonicalHeaders, "", signedHeaders, payloadHash].join("\n");
  const canonicalRequestHash = sha256Hex(canonicalRequest);
  const credentialScope = `${shortDate}/${input.region}/${ROLES_ANYWHERE_SERVICE}/aws4_request`;
  const stringToSign = [algorithm, amzDate, credentialScope, canonicalRequestHash].join("\n");

  const signature = signHex(algorithm, input.privateKey, stringToSign);

  const authorizationWithoutSignature = `${algorithm} Credential=${input.serialDecimal}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=`;
  const authorization = authorizationWithoutSignature + signature;

  const requestHeaders: Record<string, string> = {
    "Content-Type": "application/json",
    Host: input.host,
    "X-Amz-Date": amzDate,
    "X-Amz-X509": x509,
  };
  if (x509Chain !== null) requestHeaders["X-Amz-X509-Chain"] = x509Chain;
  requestHeaders["Authorization"] = authorization;
  const headers = Object.fromEntries(Object.entries(requestHeaders).map(([k, v]) => [k.toLowerCase(), v]));

  const url = `${input.scheme ?? "https"}://${input.host}${input.path}${query ? "?" + query : ""}`;
  return {
    url,
    algorithm,
    x509,
    x509Chain,
    serialDecimal: input.serialDecimal,
    amzDate,
    canonicalQueryString: query,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
    canonicalRequest,
    canonicalRequestHash,
    credentialScope,
    stringToSign,
    signature,
    authorization,
    authorizationWithoutSignature,
    requestHeaders,
    headers,
  };
}
