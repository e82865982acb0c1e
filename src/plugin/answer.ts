// Plugin mode and `check`: one request (stdin, or the image `check` names) → provide → the answer on stdout, inside the overall deadline.

import type { Config } from "../core/config.ts";
import { PluginError, UpstreamError } from "../core/errors.ts";
import { planCredentials } from "../core/credential-plan.ts";
import type { Logger } from "../core/log.ts";
import { decodeRequest, encodeResponse, type CredentialProviderRequest } from "../core/protocol.ts";
import { provide, type FetchToken, type TokenStore } from "../core/provider.ts";
import { classifyImage, parseAliases, type AliasMap } from "../core/registry.ts";
import { rolesAnywhereIdentity } from "../core/roles-anywhere-identity.ts";
import { checkFailureJson, checkJson, checkSummary } from "./check.ts";
import { readRequestBytes, type ByteSource } from "./request.ts";

/** What answering needs from the harness (plugin/run.ts). */
export interface AnswerContext {
  config: Config;
  log: Logger;
  stdin: ByteSource;
  writeStdout: (s: string) => void;
  now: () => Date;
  readFileSync: (path: string) => Buffer;
  createFetcher: (ctx: { config: Config; log: Logger; signal: AbortSignal }) => Promise<FetchToken>;
  openCache?: (ctx: { config: Config; log: Logger; signal: AbortSignal }) => Promise<TokenStore | undefined>;
  /** Set once a request is known: what `check --output=json` prints if the run then fails. */
  onFailureJson: (report: (err: unknown) => Record<string, unknown>) => void;
  /** Called when the AWS side has been loaded (for the debug "modules" line). */
  onFetcherLoaded: () => void;
}

/** Answer one request within config.timeoutMs; throws a PluginError on failure (the harness reports it). */
export async function answer(ctx: AnswerContext): Promise<void> {
  const { config } = ctx;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new UpstreamError("timeout", `overall deadline of ${config.timeoutMs} ms reached`)), config.timeoutMs);
  try {
    await answerWithin(ctx, controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function answerWithin(ctx: AnswerContext, signal: AbortSignal): Promise<void> {
  const { config, log } = ctx;
  const aliases = parseAliases(config.registryAliases);
  const request: CredentialProviderRequest =
    config.command === "check"
      ? { apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: config.commandArgs[0]! }
      : decodeRequest(await readRequestBytes(ctx.stdin, signal));
  log.addSecret(request.serviceAccountToken);
  if (config.command === "check" && config.output === "json") {
    const known = knownFacts(config, request, aliases);
    ctx.onFailureJson((err) => checkFailureJson(known, err));
  }
  const ra = config.rolesAnywhere;
  const raIdentity = ra
    ? rolesAnywhereIdentity({ trustAnchorArn: ra.trustAnchorArn, profileArn: ra.profileArn, roleArn: ra.roleArn, certificatePath: ra.certificate }, { readFileSync: ctx.readFileSync })
    : "";
  const fetchCtx = { config, log, signal };
  let fetcher: FetchToken | undefined;
  const started = ctx.now().getTime();
  const result = await withDeadline(
    provide(request, {
      aliases,
      now: ctx.now,
      log,
      plan: (req) => planCredentials(config, req, () => raIdentity),
      fetchToken: async (target, plan) => {
        fetcher ??= await ctx.createFetcher(fetchCtx);
        ctx.onFetcherLoaded();
        return fetcher(target, plan);
      },
      ...(ctx.openCache && !config.noCache ? { cache: await ctx.openCache(fetchCtx) } : {}),
    }),
    signal,
  );
  if (config.command !== "check") return ctx.writeStdout(encodeResponse(result.response));
  const elapsed = ctx.now().getTime() - started;
  ctx.writeStdout(config.output === "json" ? JSON.stringify(checkJson(result.details, elapsed)) + "\n" : checkSummary(result.details, elapsed));
}

/** For `check --output=json` failures: registry, partition, region and credential source, as far as they can be known. */
function knownFacts(config: Config, request: CredentialProviderRequest, aliases: AliasMap): Record<string, unknown> {
  let known: Record<string, unknown> = {};
  try {
    const image = classifyImage(request.image, aliases);
    known = { registry: image.authKey, partition: image.partition, region: image.region };
    known.source = planCredentials(config, request, () => "").description;
  } catch {
    // the image itself (or the plan) was the problem: report what is known
  }
  return known;
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
