// Loopback fake of the Roles Anywhere CreateSession endpoint that verifies every request as docs/roles-anywhere.md §5 says.

import { createHash, randomBytes, verify as cryptoVerify, constants as cryptoConstants, X509Certificate } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** An error the fake answers with: restJson1 shape, `X-Amzn-ErrorType` header. */
export interface FakeRolesAnywhereFailure {
  status: number;
  type: string;
  message: string;
}

/** Why the fake refused a request; recorded on the call so tests can tell the checks apart. */
export type FakeRejection =
  | "route"
  | "authorization"
  | "region"
  | "date"
  | "skew"
  | "signed-headers"
  | "leaf"
  | "leaf-not-v3"
  | "leaf-is-ca"
  | "leaf-validity"
  | "serial"
  | "key-type"
  | "payload-hash"
  | "signature"
  | "chain-too-long"
  | "untrusted"
  | "parameters"
  | "duration"
  | "role-session-name"
  | "resource"
  | "injected";

export interface FakeRolesAnywhereOptions {
  /** Trust anchors: the root, plus the intermediate when clients send no chain. X509Certificate or PEM. */
  trustAnchors: Array<X509Certificate | string>;
  /** The only credential-scope region accepted. */
  region: string;
  /** The fake's clock: the skew check and certificate validity use it, and `expiration` is based on it. */
  now: () => Date;
  /** The profile's durationSeconds: the session lasts min(requested, this). Default 3600. */
  profileDurationSeconds?: number;
  /** Maximum |now − X-Amz-Date|, seconds. Default 300, as in SigV4. */
  maxSkewSeconds?: number;
  /** Whether roleSessionName is accepted (the profile's acceptRoleSessionName). Default true. */
  acceptRoleSessionName?: boolean;
  /** When set, the ARNs must equal these (404 ResourceNotFoundException, or 403 for another role). */
  expect?: { trustAnchorArn?: string; profileArn?: string; roleArn?: string };
  /**
   * Answer a request that passed every check with this error instead of credentials. A function
   * gets the 0-based index of the call and may return undefined to succeed (e.g. fail once, then work).
   */
  failWith?: FakeRolesAnywhereFailure | ((callIndex: number) => FakeRolesAnywhereFailure | undefined);
}

/** One request the fake received, and what it answered. */
export interface FakeRolesAnywhereCall {
  method: string;
  path: string;
  /** Raw query string, without `?`. */
  query: string;
  /** Received headers, lower-case names. */
  headers: Record<string, string>;
  body: string;
  status: number;
  /** Error type answered, if any. */
  errorType?: string;
  /** Which check refused it, if any. */
  rejection?: FakeRejection;
  /** The ARNs the request named (query first, else body), when they could be read. */
  params?: { trustAnchorArn?: string; profileArn?: string; roleArn?: string; durationSeconds?: number; roleSessionName?: string };
}

/** Credentials the fake handed out, so a test can check later calls were signed with exactly these. */
export interface FakeIssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** As sent: `YYYY-MM-DDTHH:MM:SSZ`. */
  expiration: string;
  roleArn: string;
  /** The leaf's subject CN. */
  sourceIdentity: string;
  /** The leaf's serial, decimal. */
  serialDecimal: string;
}

export interface FakeRolesAnywhere {
  /** `http://127.0.0.1:PORT`: use as AWS_ENDPOINT_URL_ROLESANYWHERE / `endpointUrl`. */
  url: string;
  calls: FakeRolesAnywhereCall[];
  issued: FakeIssuedCredentials[];
  close(): Promise<void>;
}

const AUTHORIZATION =
  /^(AWS4-X509-RSA-SHA256|AWS4-X509-ECDSA-SHA256) Credential=([0-9]+)\/([0-9]{8})\/([a-z0-9-]+)\/rolesanywhere\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]+)$/;

class Reject extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly reason: FakeRejection,
    message: string,
  ) {
    super(message);
  }
}

const denied = (reason: FakeRejection, message: string) => new Reject(403, "AccessDeniedException", reason, message);

/** Independent RFC 3986 encoder (not the one under test). */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

function canonicalQuery(raw: string): string {
  if (raw === "") return "";
  return raw
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const i = p.indexOf("=");
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? "" : p.slice(i + 1);
      return [encode(decodeURIComponent(k)), encode(decodeURIComponent(v))] as const;
    })
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/** True when the DER certificate's TBSCertificate starts with `[0] { INTEGER 2 }` (X.509 v3). */
function isV3(der: Buffer): boolean {
  const skipHeader = (at: number): number => {
    const len = der[at + 1]!;
    return at + 2 + (len & 0x80 ? len & 0x7f : 0);
  };
  const tbs = skipHeader(0);
  const inner = skipHeader(tbs);
  return der.subarray(inner, inner + 5).equals(Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02]));
}

const validAt = (c: X509Certificate, now: Date) => new Date(c.validFrom).getTime() <= now.getTime() && now.getTime() <= new Date(c.validTo).getTime();

function subjectCn(c: X509Certificate): string {
  return /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1] ?? "";
}

const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

function parseAmzDate(v: string): Date {
  return new Date(`${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}T${v.slice(9, 11)}:${v.slice(11, 13)}:${v.slice(13, 15)}Z`);
}

/**
 * Start a fake CreateSession server on 127.0.0.1 (random port, plain HTTP). It checks each request
 * in the order of spec §5: route, Authorization syntax and scope region, date and skew, SignedHeaders,
 * leaf (v3, not a CA, valid, decimal serial, key type), canonical request rebuilt from the received
 * bytes, signature, chain to a trust anchor (at most 5 chain certificates), parameters (query ARNs or
 * body ARNs, durationSeconds 900–43200, roleSessionName). Passing requests get 201 and fresh random
 * credentials, recorded in `issued`; every request is recorded in `calls`.
 *
 * @example
 *   const fake = await startFakeRolesAnywhere({ trustAnchors: [rootPem], region: "us-east-1", now: () => clock });
 *   // run the plugin with AWS_ENDPOINT_URL_ROLESANYWHERE=fake.url
 *   await fake.close();
 */
export async function startFakeRolesAnywhere(options: FakeRolesAnywhereOptions): Promise<FakeRolesAnywhere> {
  const anchors = options.trustAnchors.map((a) => (typeof a === "string" ? new X509Certificate(a) : a));
  const maxSkewMs = (options.maxSkewSeconds ?? 300) * 1000;
  const profileDuration = options.profileDurationSeconds ?? 3600;
  const calls: FakeRolesAnywhereCall[] = [];
  const issued: FakeIssuedCredentials[] = [];

  const handle = (call: FakeRolesAnywhereCall, raw: Buffer): { status: number; body: unknown } => {
    const now = options.now();
    const h = call.headers;
    // 1. Route.
    if (call.method !== "POST" || call.path !== "/sessions") throw new Reject(404, "UnknownOperationException", "route", "Unknown operation");

    // 2. Authorization.
    const auth = AUTHORIZATION.exec(h["authorization"] ?? "");
    if (!auth) throw denied("authorization", "Missing or malformed Authorization header");
    const [, algorithm, serial, scopeDate, scopeRegion, signedHeaderList, signatureHex] = auth as unknown as string[];
    if (scopeRegion !== options.region) throw denied("region", `Credential should be scoped to a valid region, not '${scopeRegion}'`);

    // 3. Date.
    const amzDate = h["x-amz-date"] ?? "";
    if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== scopeDate)
      throw denied("date", "X-Amz-Date is malformed or does not match the credential scope");
    const signedAt = parseAmzDate(amzDate);
    if (Number.isNaN(signedAt.getTime())) throw denied("date", "X-Amz-Date is not a date");
    if (Math.abs(now.getTime() - signedAt.getTime()) > maxSkewMs) throw denied("skew", "Signature expired: request time is too far from the server time");

    // 4. SignedHeaders.
    const names = signedHeaderList!.split(";");
    const sortedUnique = names.every((n, i) => i === 0 || names[i - 1]! < n);
    const required = ["host", "x-amz-date", "x-amz-x509"];
    if (Object.hasOwn(h, "x-amz-x509-chain")) required.push("x-amz-x509-chain");
    if (Object.hasOwn(h, "content-type")) required.push("content-type");
    if (!sortedUnique || names.some((n) => !Object.hasOwn(h, n)) || required.some((r) => !names.includes(r))) {
      throw denied(
        "signed-headers",
        "SignedHeaders must be sorted, unique, present, and cover host, x-amz-date, x-amz-x509, x-amz-x509-chain and content-type",
      );
    }

    // 5. Leaf.
    let leaf: X509Certificate;
    const leafDer = Buffer.from(h["x-amz-x509"] ?? "", "base64");
    try {
      leaf = new X509Certificate(leafDer);
    } catch {
      throw denied("leaf", "X-Amz-X509 is not a certificate");
    }
    if (!isV3(leafDer)) throw denied("leaf-not-v3", "Signing certificate must be X.509 v3");
    if (leaf.ca) throw denied("leaf-is-ca", "Signing certificate must not be a CA");
    if (!validAt(leaf, now)) throw denied("leaf-validity", "Signing certificate is not valid now");
    if (BigInt("0x" + leaf.serialNumber).toString(10) !== serial) throw denied("serial", "Credential serial does not match the signing certificate");
    const keyType = leaf.publicKey.asymmetricKeyType;
    if ((algorithm === "AWS4-X509-RSA-SHA256") !== (keyType === "rsa") || (algorithm === "AWS4-X509-ECDSA-SHA256") !== (keyType === "ec")) {
      throw denied("key-type", "Algorithm does not match the certificate's key type");
    }

    // 6. Canonical request, from what was received.
    const payloadHash = createHash("sha256").update(raw).digest("hex");
    if (h["x-amz-content-sha256"] !== undefined && h["x-amz-content-sha256"] !== payloadHash)
      throw new Reject(400, "ValidationException", "payload-hash", "x-amz-content-sha256 does not match the body");
    const canonicalHeaders = names.map((n) => `${n}:${(h[n] ?? "").trim().replace(/\s+/g, " ")}`).join("\n");
    const canonicalRequest = [call.method, call.path, canonicalQuery(call.query), canonicalHeaders, "", signedHeaderList, payloadHash].join("\n");
    const stringToSign = [
      algorithm,
      amzDate,
      `${scopeDate}/${scopeRegion}/rolesanywhere/aws4_request`,
      createHash("sha256").update(canonicalRequest).digest("hex"),
    ].join("\n");

    // 7. Signature.
    const sts = Buffer.from(stringToSign, "utf8");
    const sig = Buffer.from(signatureHex!, "hex");
    let ok: boolean;
    try {
      ok =
        keyType === "rsa"
          ? cryptoVerify("sha256", sts, { key: leaf.publicKey, padding: cryptoConstants.RSA_PKCS1_PADDING }, sig)
          : cryptoVerify("sha256", sts, { key: leaf.publicKey, dsaEncoding: "der" }, sig);
    } catch {
      ok = false;
    }
    if (!ok) throw denied("signature", "Invalid signature");

    // 8. Trust chain.
    const chainHeader = h["x-amz-x509-chain"];
    let chain: X509Certificate[] = [];
    if (chainHeader !== undefined) {
      const parts = chainHeader.split(",");
      if (parts.length > 5) throw denied("chain-too-long", "Untrusted Signing Certificate");
      try {
        chain = parts.map((p) => new X509Certificate(Buffer.from(p, "base64")));
      } catch {
        throw denied("untrusted", "Untrusted Signing Certificate");
      }
    }
    const issues = (child: X509Certificate, parent: X509Certificate) => child.checkIssued(parent) && child.verify(parent.publicKey);
    let cur = leaf;
    let trusted = false;
    for (let depth = 0; depth <= chain.length; depth++) {
      if (anchors.some((a) => issues(cur, a))) {
        trusted = true;
        break;
      }
      const next = chain.find((c) => c !== cur && c.ca && validAt(c, now) && issues(cur, c));
      if (!next) break;
      cur = next;
    }
    if (!trusted) throw denied("untrusted", "Untrusted Signing Certificate");

    // 9. Parameters.
    const q = new Map<string, string>();
    for (const p of call.query.split("&").filter(Boolean)) {
      const i = p.indexOf("=");
      q.set(decodeURIComponent(i < 0 ? p : p.slice(0, i)), decodeURIComponent(i < 0 ? "" : p.slice(i + 1)));
    }
    let json: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(raw.toString("utf8"));
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
        json = parsed as Record<string, unknown>;
      } catch {
        throw new Reject(400, "ValidationException", "parameters", "Request body is not a JSON object");
      }
    }
    const param = (name: string): string | undefined => q.get(name) ?? (typeof json[name] === "string" ? (json[name] as string) : undefined);
    const trustAnchorArn = param("trustAnchorArn");
    const profileArn = param("profileArn");
    const roleArn = param("roleArn");
    const durationSeconds = json.durationSeconds === undefined ? 3600 : json.durationSeconds;
    const roleSessionName = typeof json.roleSessionName === "string" ? json.roleSessionName : undefined;
    call.params = { trustAnchorArn, profileArn, roleArn, durationSeconds: typeof durationSeconds === "number" ? durationSeconds : undefined, roleSessionName };
    for (const [name, value] of [
      ["profileArn", profileArn],
      ["roleArn", roleArn],
      ["trustAnchorArn", trustAnchorArn],
    ] as const) {
      if (!value)
        throw new Reject(
          400,
          "ValidationException",
          "parameters",
          `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
        );
    }
    if (typeof durationSeconds !== "number" || !Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43200) {
      throw new Reject(
        400,
        "ValidationException",
        "duration",
        `1 validation error detected: Value '${String(durationSeconds)}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`,
      );
    }
    const expect = options.expect ?? {};
    if ((expect.trustAnchorArn && expect.trustAnchorArn !== trustAnchorArn) || (expect.profileArn && expect.profileArn !== profileArn)) {
      throw new Reject(404, "ResourceNotFoundException", "resource", "Resource not found");
    }
    if (expect.roleArn && expect.roleArn !== roleArn) throw denied("resource", "Requested Role isn't one of those listed in the Profile.");
    if (roleSessionName !== undefined && options.acceptRoleSessionName === false) throw denied("role-session-name", "Not authorized to set roleSessionName.");

    const fail = typeof options.failWith === "function" ? options.failWith(calls.length - 1) : options.failWith;
    if (fail) throw new Reject(fail.status, fail.type, "injected", fail.message);

    // 10. Success.
    const expiration = isoSeconds(new Date(now.getTime() + Math.min(durationSeconds, profileDuration) * 1000));
    const creds: FakeIssuedCredentials = {
      accessKeyId: "ASIA" + randomBytes(8).toString("hex").toUpperCase(),
      secretAccessKey: randomBytes(30).toString("base64"),
      sessionToken: "FQoG" + randomBytes(96).toString("base64"),
      expiration,
      roleArn: roleArn!,
      sourceIdentity: subjectCn(leaf),
      serialDecimal: serial!,
    };
    issued.push(creds);
    const account = /:(\d{12}):/.exec(roleArn!)?.[1] ?? "000000000000";
    const roleName = roleArn!.slice(roleArn!.lastIndexOf("/") + 1);
    return {
      status: 201,
      body: {
        credentialSet: [
          {
            assumedRoleUser: {
              arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${leaf.serialNumber.toLowerCase()}`,
              assumedRoleId: "AROAFAKE:" + leaf.serialNumber.toLowerCase(),
            },
            credentials: { accessKeyId: creds.accessKeyId, expiration, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
            packedPolicySize: 10,
            roleArn,
            sourceIdentity: creds.sourceIdentity,
          },
        ],
        subjectArn: `${trustAnchorArn!.replace(/trust-anchor\/.*$/, "subject/")}${createHash("sha256").update(leafDer).digest("hex").slice(0, 32)}`,
      },
    };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const target = req.url ?? "/";
      const qi = target.indexOf("?");
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
      const call: FakeRolesAnywhereCall = {
        method: req.method ?? "",
        path: qi < 0 ? target : target.slice(0, qi),
        query: qi < 0 ? "" : target.slice(qi + 1),
        headers,
        body: raw.toString("utf8"),
        status: 0,
      };
      calls.push(call);
      let status: number;
      let body: unknown;
      const extra: Record<string, string> = {};
      try {
        ({ status, body } = handle(call, raw));
      } catch (caught) {
        // Anything unforeseen (a malformed %-escape, say) is still an answer, never a crashed server.
        const err = caught instanceof Reject ? caught : new Reject(400, "ValidationException", "parameters", "Malformed request");
        status = err.status;
        body = { message: err.message };
        call.errorType = err.type;
        call.rejection = err.reason;
        extra["x-amzn-errortype"] = `${err.type}:http://internal.amazon.com/coral/com.amazon.rolesanywhere/`;
      }
      call.status = status;
      const text = JSON.stringify(body);
      res.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
        "x-amzn-requestid": randomBytes(16).toString("hex"),
        ...extra,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    issued,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
