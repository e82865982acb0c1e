// A fake AWS on 127.0.0.1: ECR, ECR Public, STS (AssumeRoleWithWebIdentity) and IMDSv2. Verifies SigV4, records calls, injects faults.

import { createHash, createHmac, randomBytes } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The long-term test key every e2e test may use (AWS's documentation example, not a real key). */
export const TEST_CREDENTIALS: StaticCredentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

export type Service = "ecr" | "ecr-public" | "sts" | "imds";

/** One recorded request. `region` is the SigV4 scope region (undefined for unsigned calls). */
export interface Call {
  service: Service;
  action: string;
  region?: string;
  signingService?: string;
  accessKeyId?: string;
  sessionToken?: string;
  host: string;
  status: number;
  /** Why the fake refused the call, when it did. */
  rejected?: string;
  /** STS: the role and token it was asked for. */
  roleArn?: string;
  roleSessionName?: string;
  webIdentityToken?: string;
  viaProxy?: boolean;
  /** The User-Agent header the client sent. */
  userAgent?: string;
  at: number;
}

/** What the fake does for ECR / ECR Public token calls. */
export type EcrMode =
  | { kind: "ok" }
  | { kind: "error"; status: number; type: string; message?: string }
  | { kind: "slow"; ms: number }
  | { kind: "reset" }
  | { kind: "malformed" }
  | { kind: "no-data" }
  | { kind: "bad-base64" }
  | { kind: "no-colon" }
  | { kind: "no-expiry" }
  | { kind: "expired" };

export interface FakeAwsOptions {
  /** Latency added to every ECR / STS answer, like a real network. */
  latencyMs?: number;
  /** Token lifetime the fake ECR issues (12 h, like ECR). */
  tokenLifetimeMs?: number;
  /** More than this many ECR calls in one second get ThrottlingException. */
  throttleAbovePerSecond?: number;
  /**
   * A token bucket per Region (ECR Public: one, us-east-1), like ECR's GetAuthorizationToken quota:
   * `rate` tokens per second, at most `burst` (at least 1) held; a call without a token gets
   * ThrottlingException and consumes nothing.
   */
  bucket?: { rate: number; burst: number };
  /** Extra credentials the fake accepts (e.g. those a fake Roles Anywhere issued). */
  lookupCredentials?: (accessKeyId: string) => StaticCredentials | undefined;
  /** Clock for issued expiries and skew checks. */
  now?: () => Date;
  /** Largest clock difference accepted in a signature (SigV4 services allow 5 minutes; we allow 15 for slow CI). */
  maxSkewMs?: number;
  /** Serve HTTPS with this certificate (clients need its CA, e.g. through NODE_EXTRA_CA_CERTS). */
  tls?: { cert: string; key: string };
  /**
   * The password to issue instead of a random one (e.g. the one a real registry's htpasswd holds).
   * Read on every call, like `tokenLifetimeMs`, so a test may change either between calls.
   */
  passwordFor?: (service: "ecr" | "ecr-public", region: string) => string;
}

export interface FakeAws {
  url: string;
  port: number;
  calls: Call[];
  /** ECR behaviour; change it between runs. Applies to the next `times` calls, then back to ok. */
  setEcrMode(mode: EcrMode, times?: number): void;
  setStsMode(mode: { kind: "ok" } | { kind: "error"; status: number; code: string; message?: string }): void;
  setImdsMode(mode: { kind: "ok" } | { kind: "down" }): void;
  addCredentials(c: StaticCredentials): void;
  /** Every password issued so far (so tests can check what they got came from here). */
  issuedPasswords: string[];
  /** Credentials issued by STS / IMDS, by access key id. */
  issuedCredentials: StaticCredentials[];
  ecrCalls(): Call[];
  close(): Promise<void>;
}

const ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
const ECR_PUBLIC_TARGET = "SpencerFrontendService.GetAuthorizationToken";
const IMDS_ROLE = "node-role";

function sha256hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** RFC 3986 encoding as SigV4 wants it. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

interface Parsed {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Parse `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
function parseAuthorization(h: string | undefined): Parsed | undefined {
  if (!h) return undefined;
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(h);
  if (!m) return undefined;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.split(";"), signature: m[6]! };
}

/**
 * Verify a SigV4 signature independently of the SDK: rebuild the canonical request from what was
 * received. Returns a reason string on failure.
 */
function verifySigV4(req: http.IncomingMessage, body: Buffer, creds: StaticCredentials, p: Parsed, now: Date, maxSkewMs: number): string | undefined {
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== p.date) return "bad x-amz-date";
  const t = Date.UTC(
    +amzDate.slice(0, 4),
    +amzDate.slice(4, 6) - 1,
    +amzDate.slice(6, 8),
    +amzDate.slice(9, 11),
    +amzDate.slice(11, 13),
    +amzDate.slice(13, 15),
  );
  if (Math.abs(t - now.getTime()) > maxSkewMs) return "signature expired (clock skew)";
  if (!p.signedHeaders.includes("host") || !p.signedHeaders.includes("x-amz-date")) return "host and x-amz-date must be signed";
  if (creds.sessionToken !== undefined) {
    if (req.headers["x-amz-security-token"] !== creds.sessionToken) return "session token mismatch";
    if (!p.signedHeaders.includes("x-amz-security-token")) return "session token not signed";
  }
  const url = new URL(req.url ?? "/", "http://x");
  const path =
    url.pathname
      .split("/")
      .map((seg) => uriEncode(decodeURIComponent(seg)))
      .join("/") || "/";
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const headerLines: string[] = [];
  for (const name of p.signedHeaders) {
    const v = req.headers[name];
    if (v === undefined) return `signed header ${name} missing`;
    headerLines.push(`${name}:${(Array.isArray(v) ? v.join(",") : v).trim().replace(/\s+/g, " ")}`);
  }
  const payloadHash = String(req.headers["x-amz-content-sha256"] ?? sha256hex(body));
  if (payloadHash !== "UNSIGNED-PAYLOAD" && payloadHash !== sha256hex(body)) return "payload hash mismatch";
  const canonical = [req.method, path, query, headerLines.join("\n") + "\n", p.signedHeaders.join(";"), payloadHash].join("\n");
  const scope = `${p.date}/${p.region}/${p.service}/aws4_request`;
  const sts = ["AWS4-HMAC-SHA256", amzDate, scope, sha256hex(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac("AWS4" + creds.secretAccessKey, p.date), p.region), p.service), "aws4_request");
  const expected = createHmac("sha256", key).update(sts).digest("hex");
  return expected === p.signature ? undefined : "signature mismatch";
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Start the fake on 127.0.0.1 (port 0 = any free port). */
export async function startFakeAws(opts: FakeAwsOptions = {}): Promise<FakeAws> {
  const now = opts.now ?? (() => new Date());
  const maxSkewMs = opts.maxSkewMs ?? 15 * 60_000;
  const keys = new Map<string, StaticCredentials>([[TEST_CREDENTIALS.accessKeyId, TEST_CREDENTIALS]]);
  const calls: Call[] = [];
  const issuedPasswords: string[] = [];
  const issuedCredentials: StaticCredentials[] = [];
  let ecrMode: EcrMode = { kind: "ok" };
  let ecrModeTimes = Infinity;
  let stsMode: { kind: "ok" } | { kind: "error"; status: number; code: string; message?: string } = { kind: "ok" };
  let imdsMode: { kind: "ok" } | { kind: "down" } = { kind: "ok" };
  const ecrWindow: number[] = [];
  const buckets = new Map<string, { level: number; at: number }>();
  let counter = 0;

  const lookup = (akid: string) => keys.get(akid) ?? opts.lookupCredentials?.(akid);

  const issue = (): StaticCredentials => {
    const c = {
      accessKeyId: "ASIA" + randomBytes(8).toString("hex").toUpperCase(),
      secretAccessKey: randomBytes(20).toString("base64"),
      sessionToken: "FQoG" + randomBytes(24).toString("base64"),
    };
    keys.set(c.accessKeyId, c);
    issuedCredentials.push(c);
    return c;
  };

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void handle(req, res, Buffer.concat(chunks)).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  };
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : http.createServer(onRequest);
  // Every socket, TLS ones included, so close() never waits on a client's idle connection.
  const sockets = new Set<import("node:net").Socket>();
  server.on(opts.tls ? "secureConnection" : "connection", (s: import("node:net").Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  const json = (res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", date: now().toUTCString(), ...extra });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  const awsJsonError = (res: http.ServerResponse, status: number, type: string, message: string) =>
    json(res, status, { __type: type, message }, { "x-amzn-errortype": type });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const host = String(req.headers.host ?? "");
    const viaProxy = req.headers["x-fake-proxy"] === "1";
    const path = new URL(req.url ?? "/", "http://x").pathname;

    // IMDSv2
    if (path.startsWith("/latest/")) {
      const call: Call = { service: "imds", action: `${req.method} ${path}`, host, status: 200, at: Date.now() };
      calls.push(call);
      if (imdsMode.kind === "down") {
        call.status = 0;
        req.socket.destroy();
        return;
      }
      if (req.method === "PUT" && path === "/latest/api/token") {
        res.writeHead(200, { "content-type": "text/plain", "x-aws-ec2-metadata-token-ttl-seconds": "21600" });
        res.end("imds-session-token");
        return;
      }
      if (req.headers["x-aws-ec2-metadata-token"] !== "imds-session-token") {
        call.status = 401;
        res.writeHead(401).end();
        return;
      }
      if (path === "/latest/meta-data/iam/security-credentials/") {
        res.writeHead(200, { "content-type": "text/plain" }).end(IMDS_ROLE);
        return;
      }
      if (path === `/latest/meta-data/iam/security-credentials/${IMDS_ROLE}`) {
        const c = issue();
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            Code: "Success",
            Type: "AWS-HMAC",
            AccessKeyId: c.accessKeyId,
            SecretAccessKey: c.secretAccessKey,
            Token: c.sessionToken,
            Expiration: new Date(now().getTime() + 6 * 3600_000).toISOString(),
            LastUpdated: now().toISOString(),
          }),
        );
        return;
      }
      call.status = 404;
      res.writeHead(404).end();
      return;
    }

    if (opts.latencyMs) await sleep(opts.latencyMs);

    // STS (query protocol, unsigned for AssumeRoleWithWebIdentity)
    const form = new URLSearchParams(body.toString("utf8"));
    if (req.method === "POST" && form.get("Action")) {
      const call: Call = {
        service: "sts",
        action: form.get("Action")!,
        host,
        status: 200,
        at: Date.now(),
        viaProxy,
        userAgent: req.headers["user-agent"],
        roleArn: form.get("RoleArn") ?? undefined,
        roleSessionName: form.get("RoleSessionName") ?? undefined,
        webIdentityToken: form.get("WebIdentityToken") ?? undefined,
      } as Call;
      calls.push(call);
      const xmlError = (status: number, code: string, message: string) => {
        call.status = status;
        call.rejected = code;
        res.writeHead(status, { "content-type": "text/xml" });
        res.end(
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
        );
      };
      if (call.action !== "AssumeRoleWithWebIdentity") return xmlError(400, "InvalidAction", `fake STS does not implement ${call.action}`);
      if (!call.roleArn || !call.webIdentityToken || !call.roleSessionName) return xmlError(400, "ValidationError", "missing parameter");
      if (stsMode.kind === "error") return xmlError(stsMode.status, stsMode.code, stsMode.message ?? "Not authorized to perform sts:AssumeRoleWithWebIdentity");
      const c = issue();
      res.writeHead(200, { "content-type": "text/xml", date: now().toUTCString() });
      res.end(
        `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
          `<Credentials><AccessKeyId>${c.accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(c.secretAccessKey)}</SecretAccessKey>` +
          `<SessionToken>${xmlEscape(c.sessionToken!)}</SessionToken><Expiration>${new Date(now().getTime() + 3600_000).toISOString()}</Expiration></Credentials>` +
          `<SubjectFromWebIdentityToken>system:serviceaccount:x:y</SubjectFromWebIdentityToken>` +
          `<AssumedRoleUser><Arn>${xmlEscape(call.roleArn)}/ecr-credential-provider</Arn><AssumedRoleId>AROAFAKE:ecr-credential-provider</AssumedRoleId></AssumedRoleUser>` +
          `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
      );
      return;
    }

    // ECR and ECR Public (JSON 1.1, signed)
    const target = String(req.headers["x-amz-target"] ?? "");
    const service: Service | undefined = target === ECR_TARGET ? "ecr" : target === ECR_PUBLIC_TARGET ? "ecr-public" : undefined;
    if (!service) {
      res.writeHead(404).end("fake AWS: unknown request");
      return;
    }
    const auth = parseAuthorization(req.headers.authorization as string | undefined);
    const call: Call = {
      service,
      action: "GetAuthorizationToken",
      host,
      status: 200,
      at: Date.now(),
      viaProxy,
      userAgent: req.headers["user-agent"],
      ...(auth ? { region: auth.region, signingService: auth.service, accessKeyId: auth.accessKeyId } : {}),
      ...(req.headers["x-amz-security-token"] ? { sessionToken: String(req.headers["x-amz-security-token"]) } : {}),
    };
    calls.push(call);
    if (!auth) {
      call.status = 403;
      call.rejected = "missing or malformed Authorization";
      return awsJsonError(res, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    const creds = lookup(auth.accessKeyId);
    if (!creds) {
      call.status = 403;
      call.rejected = "unknown access key";
      return awsJsonError(res, 403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    }
    const expectedSigning = service === "ecr" ? "ecr" : "ecr-public";
    const bad = auth.service !== expectedSigning ? `signed for ${auth.service}` : verifySigV4(req, body, creds, auth, now(), maxSkewMs);
    if (bad) {
      call.status = 403;
      call.rejected = bad;
      return awsJsonError(res, 403, "InvalidSignatureException", `The request signature we calculated does not match the signature you provided (${bad}).`);
    }
    if (opts.throttleAbovePerSecond !== undefined) {
      const t = Date.now();
      while (ecrWindow.length && ecrWindow[0]! < t - 1000) ecrWindow.shift();
      ecrWindow.push(t);
      if (ecrWindow.length > opts.throttleAbovePerSecond) {
        call.status = 400;
        call.rejected = "throttled";
        return awsJsonError(res, 400, "ThrottlingException", "Rate exceeded");
      }
    }
    if (opts.bucket) {
      const key = service === "ecr" ? auth.region : "public";
      const cap = Math.max(1, opts.bucket.burst);
      const t = Date.now();
      const b = buckets.get(key) ?? { level: cap, at: t };
      b.level = Math.min(cap, b.level + ((t - b.at) / 1000) * opts.bucket.rate);
      b.at = t;
      buckets.set(key, b);
      if (b.level < 1) {
        call.status = 400;
        call.rejected = "throttled";
        return awsJsonError(res, 400, "ThrottlingException", "Rate exceeded");
      }
      b.level -= 1;
    }
    const mode = ecrModeTimes > 0 ? ecrMode : ({ kind: "ok" } as EcrMode);
    if (ecrModeTimes > 0 && ecrMode.kind !== "ok") ecrModeTimes--;
    ++counter;
    const password = opts.passwordFor?.(service, auth.region) ?? `pw-${auth.region}-${counter}-${randomBytes(12).toString("hex")}`;
    const lifetime = opts.tokenLifetimeMs ?? 12 * 3600_000;
    let token = Buffer.from(`AWS:${password}`).toString("base64");
    let expiresAt: number | undefined = (now().getTime() + lifetime) / 1000;
    switch (mode.kind) {
      case "error":
        call.status = mode.status;
        call.rejected = mode.type;
        return awsJsonError(res, mode.status, mode.type, mode.message ?? mode.type);
      case "slow":
        await sleep(mode.ms);
        break;
      case "reset":
        call.status = 0;
        call.rejected = "connection reset";
        req.socket.destroy();
        return;
      case "malformed":
        return json(res, 200, '{"authorizationData": [ {"authorizationToken": ');
      case "no-data":
        return json(res, 200, service === "ecr" ? { authorizationData: [] } : {});
      case "bad-base64":
        token = "%%%not-base64%%%";
        break;
      case "no-colon":
        token = Buffer.from(`AWS${password}`).toString("base64");
        break;
      case "no-expiry":
        expiresAt = undefined;
        break;
      case "expired":
        expiresAt = (now().getTime() - 60_000) / 1000;
        break;
    }
    issuedPasswords.push(password);
    const data: Record<string, unknown> = { authorizationToken: token };
    if (expiresAt !== undefined) data.expiresAt = expiresAt;
    if (service === "ecr") {
      data.proxyEndpoint = `https://123456789012.dkr.ecr.${auth.region}.amazonaws.com`;
      return json(res, 200, { authorizationData: [data] });
    }
    return json(res, 200, { authorizationData: data });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    calls,
    issuedPasswords,
    issuedCredentials,
    setEcrMode(mode, times = Infinity) {
      ecrMode = mode;
      ecrModeTimes = times;
    },
    setStsMode(mode) {
      stsMode = mode;
    },
    setImdsMode(mode) {
      imdsMode = mode;
    },
    addCredentials(c) {
      keys.set(c.accessKeyId, c);
    },
    ecrCalls: () => calls.filter((c) => c.service === "ecr" || c.service === "ecr-public"),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Every secret a run against `fake` could leak: the test secret key, each password and STS session the
 * fake issued. Tests assert none of them reaches stdout, stderr or a log line.
 */
export function fakeSecrets(fake: Pick<FakeAws, "issuedPasswords" | "issuedCredentials">): string[] {
  return [
    TEST_CREDENTIALS.secretAccessKey,
    ...fake.issuedPasswords,
    ...fake.issuedCredentials.flatMap((c) => [c.secretAccessKey, c.sessionToken ?? ""]),
  ].filter(Boolean);
}

/**
 * The environment that points the plugin at a fake: only the SDK's standard endpoint variables,
 * plus test credentials, an isolated HOME and no IMDS unless asked.
 */
export function fakeAwsEnv(fake: { url: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    AWS_ENDPOINT_URL_ECR: fake.url,
    AWS_ENDPOINT_URL_ECR_PUBLIC: fake.url,
    AWS_ENDPOINT_URL_STS: fake.url,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: fake.url,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    ...extra,
  };
}

const pkiFile = (f: string) => fileURLToPath(new URL(`../fixtures/rolesanywhere/${f}`, import.meta.url));
/** The test CA that signed TEST_SERVER_TLS (test/fixtures/rolesanywhere/pki/README.md): what HTTPS clients of a fake must trust. */
export const TEST_CA_FILE = pkiFile("pki/root-ca.cert.pem");
/** A certificate for 127.0.0.1 and localhost signed by TEST_CA_FILE, and its key: `startFakeAws({ tls: TEST_SERVER_TLS() })`. */
export function TEST_SERVER_TLS(): { cert: string; key: string } {
  return { cert: readFileSync(pkiFile("extra/server-localhost.cert.pem"), "utf8"), key: readFileSync(pkiFile("extra/server-localhost.key.pem"), "utf8") };
}
