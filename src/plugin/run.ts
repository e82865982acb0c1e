// The harness: argv/env → config → stdin request → provide → one JSON answer; every failure → exit code + one stderr line.

import { helpText, readConfig, type Config } from "../core/config.ts";
import { ConfigError, CredentialsError, EXIT, InputError, PluginError, UpstreamError } from "../core/errors.ts";
import { planCredentials } from "../core/credential-plan.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { MAX_REQUEST_BYTES, decodeRequest, encodeResponse, type CredentialProviderRequest } from "../core/protocol.ts";
import { provide, type FetchToken, type ProvideDetails, type TokenStore } from "../core/provider.ts";
import { classifyImage, parseAliases } from "../core/registry.ts";
import { rolesAnywhereIdentity } from "../core/roles-anywhere-identity.ts";

export interface RunIo {
  stdin: ByteSource;
  writeStdout: (s: string) => void;
  writeStderr: (s: string) => void;
}

/** Everything with side effects, injected by main.ts (or a test). */
export interface RunDeps {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  now: () => Date;
  version: string;
  /** Reads a small file (Roles Anywhere certificate, for its cache identity). */
  readFileSync: (path: string) => Buffer;
  /** Builds the AWS side; main.ts loads it lazily so a cache hit never evaluates the SDK. */
  createFetcher: (ctx: { config: Config; log: Logger; signal: AbortSignal }) => Promise<FetchToken>;
  /** Opens the token cache, or undefined to run without one. */
  openCache?: (ctx: { config: Config; log: Logger; signal: AbortSignal }) => Promise<TokenStore | undefined>;
  /**
   * What this run loaded, for the debug "modules" line: the network built-ins (a cache hit loads
   * none) and whether V8 accepted the lazy half's code cache.
   */
  loadReport?: () => Record<string, string>;
  /** Runs `doctor`; loaded lazily. */
  runDoctor?: (args: readonly string[], ctx: { config: Config; log: Logger; writeStdout: (s: string) => void }) => Promise<number>;
}

/** A byte source: an async iterable (tests) or an event-emitting stream such as process.stdin. */
export type ByteSource = AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

/** Read stdin up to MAX_REQUEST_BYTES; refuse more without buffering it; give up when the deadline passes. */
export function readRequestBytes(stdin: ByteSource, signal: AbortSignal): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (err: Error | undefined, value?: Buffer) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve(value!);
    };
    const onAbort = () => finish(new InputError("stdin_timeout", "timed out waiting for the request on stdin (stdin was never closed)"));
    const onChunk = (chunk: Uint8Array): boolean => {
      total += chunk.length;
      if (total > MAX_REQUEST_BYTES) {
        finish(new InputError("request_too_large", `the request on stdin is larger than ${MAX_REQUEST_BYTES} bytes`));
        return false;
      }
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return true;
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    if ("on" in stdin && typeof stdin.on === "function") {
      // Plain events, not the async iterator: cheaper to load on the start-up path.
      const s = stdin as NodeJS.ReadableStream;
      s.on("data", (c: Uint8Array) => {
        if (!onChunk(c)) s.pause();
      });
      s.on("end", () => finish(undefined, Buffer.concat(chunks)));
      s.on("error", (e: Error) => finish(new InputError("stdin_error", `cannot read stdin: ${e.message}`)));
      return;
    }
    void (async () => {
      try {
        for await (const chunk of stdin as AsyncIterable<Uint8Array>) if (!onChunk(chunk)) return;
        finish(undefined, Buffer.concat(chunks));
      } catch (e) {
        finish(new InputError("stdin_error", `cannot read stdin: ${(e as Error).message}`));
      }
    })();
  });
}

/** The one stderr line for a failure: `ecr-credential-provider: <code>: <message>`. */
export function failureLine(err: unknown, log: Logger): string {
  if (err instanceof PluginError) return log.redact(`ecr-credential-provider: ${err.code}: ${err.message}`).replace(/\n/g, " ") + "\n";
  const msg = err instanceof Error ? err.message : String(err);
  return log.redact(`ecr-credential-provider: internal: unexpected error: ${msg}`).replace(/\n/g, " ") + "\n";
}

/**
 * Run one invocation. Returns the exit code; writes at most one JSON object to stdout (plugin
 * mode) and one line per failure to stderr. Never throws.
 */
export async function run(io: RunIo, deps: RunDeps): Promise<number> {
  let log = createLogger({ level: "warn", format: "text", write: io.writeStderr, now: deps.now });
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** `check --output=json` also reports a failure on stdout, with what was known by then. */
  let checkJsonOnFailure: ((err: unknown) => unknown) | undefined;
  let fetcher: FetchToken | undefined;
  try {
    const config = readConfig(deps.argv, deps.env);
    log = createLogger({ level: config.logLevel, format: config.logFormat, write: io.writeStderr, now: deps.now });
    if (config.command === "version") {
      io.writeStdout(`ecr-credential-provider ${deps.version}\n`);
      return EXIT.ok;
    }
    if (config.command === "help") {
      io.writeStdout(helpText(deps.version));
      return EXIT.ok;
    }
    if (config.command === "doctor") {
      if (!deps.runDoctor) throw new ConfigError("no_doctor", "doctor is not available in this build");
      return await deps.runDoctor(config.commandArgs, { config, log, writeStdout: io.writeStdout });
    }
    timer = setTimeout(() => controller.abort(new UpstreamError("timeout", `overall deadline of ${config.timeoutMs} ms reached`)), config.timeoutMs);
    const signal = controller.signal;
    const aliases = parseAliases(config.registryAliases);

    let request: CredentialProviderRequest;
    if (config.command === "check") {
      request = { apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: config.commandArgs[0]! };
    } else {
      request = decodeRequest(await readRequestBytes(io.stdin, signal));
    }
    log.addSecret(request.serviceAccountToken);

    if (config.command === "check" && config.output === "json") {
      checkJsonOnFailure = (err) => {
        const e = err instanceof PluginError ? err : undefined;
        let known: Record<string, unknown> = {};
        try {
          const image = classifyImage(request.image, aliases);
          known = { registry: image.authKey, partition: image.partition, region: image.region };
          // Credentials resolved unless the failure says none could be found or the setup is wrong.
          if (!(e instanceof CredentialsError && e.code === "no_credentials") && !(e instanceof ConfigError)) {
            known.source = planCredentials(config, request, () => "").description;
          }
        } catch {
          // the image itself was the problem
        }
        return { ok: false, ...known, error: { code: e?.code ?? "internal", message: e?.message ?? String(err) } };
      };
    }
    const ra = config.rolesAnywhere;
    const raIdentity = ra
      ? rolesAnywhereIdentity({ trustAnchorArn: ra.trustAnchorArn, profileArn: ra.profileArn, roleArn: ra.roleArn, certificatePath: ra.certificate }, { readFileSync: deps.readFileSync })
      : "";
    const ctx = { config, log, signal };
    const started = Date.now();
    const result = await withDeadline(
      provide(request, {
        aliases,
        now: deps.now,
        log,
        plan: (req) => planCredentials(config, req, () => raIdentity),
        fetchToken: async (target, plan) => {
          fetcher ??= await deps.createFetcher(ctx);
          return fetcher(target, plan);
        },
        ...(deps.openCache && !config.noCache ? { cache: await deps.openCache(ctx) } : {}),
      }),
      signal,
    );
    if (config.command === "check") {
      const elapsed = Date.now() - started;
      io.writeStdout(config.output === "json" ? JSON.stringify(checkJson(result.details, elapsed)) + "\n" : checkSummary(result.details, elapsed));
    } else {
      io.writeStdout(encodeResponse(result.response));
    }
    return EXIT.ok;
  } catch (err) {
    io.writeStderr(failureLine(err, log));
    if (checkJsonOnFailure) io.writeStdout(log.redact(JSON.stringify(checkJsonOnFailure(err))) + "\n");
    if (!(err instanceof PluginError) || log.level === "debug") {
      const stack = err instanceof Error ? err.stack ?? "" : "";
      if (log.level === "debug" && stack) log.debug("stack", { stack: stack.split("\n").slice(0, 8).join(" | ") });
    }
    return err instanceof PluginError ? err.exitCode : EXIT.internal;
  } finally {
    if (timer) clearTimeout(timer);
    // On success and failure alike: what this run loaded (a cache hit loads no SDK, no network module).
    log.debug("modules", { awsSdkLoaded: fetcher !== undefined, ...deps.loadReport?.() });
  }
}

/** Reject as soon as the deadline passes, whatever the work is waiting on. */
function withDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      const reason = signal.reason;
      reject(reason instanceof PluginError ? reason : new UpstreamError("timeout", "overall deadline reached"));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** `check --output=json`: the same facts as the summary, for doctor and scripts; never a password or token. */
export function checkJson(d: ProvideDetails, elapsedMs: number): Record<string, unknown> {
  return {
    ok: true,
    registry: d.image.authKey,
    ...(d.image.aliasOf ? { aliasOf: d.image.aliasOf } : {}),
    kind: d.image.kind,
    ...(d.image.account ? { account: d.image.account } : {}),
    partition: d.image.partition,
    region: d.image.region,
    fips: d.image.fips,
    dualstack: d.image.dualstack,
    endpoint: d.endpoint,
    source: d.plan.description,
    ...(d.expiresAt ? { expiresAt: d.expiresAt.toISOString() } : {}),
    ...(d.serverDate ? { serverDate: d.serverDate.toISOString() } : {}),
    cacheDuration: d.cacheDuration,
    fromCache: d.fromCache,
    stale: d.stale,
    elapsedMs,
  };
}

/** `check`'s human summary; never a password or token. */
export function checkSummary(d: ProvideDetails, elapsedMs: number): string {
  const rows: [string, string][] = [
    ["registry", d.image.authKey + (d.image.aliasOf ? ` (alias of ${d.image.aliasOf})` : "")],
    ["kind", d.image.kind === "public" ? "ECR Public" : `ECR private, account ${d.image.account}`],
    ["partition", d.image.partition],
    ["region", d.image.region],
    ["fips / dual-stack", `${d.image.fips} / ${d.image.dualstack}`],
    ["API endpoint", d.endpoint],
    ["credential source", d.plan.description],
    ["token expires", d.expiresAt ? d.expiresAt.toISOString() : "(no expiry given)"],
    ["cacheDuration", d.cacheDuration],
    ["from cache", d.fromCache ? (d.stale ? "yes (stale: refresh failed)" : "yes") : "no"],
    ["elapsed", `${elapsedMs} ms`],
    ["password", "(redacted)"],
  ];
  return rows.map(([k, v]) => `${k.padEnd(18)} ${v}`).join("\n") + "\n";
}
