// The one place the real AWS adapters are built from Config: HTTP handler, ECR, STS, the default chain, Roles Anywhere.

import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { Config } from "../core/config.ts";
import { ConfigError, CredentialsError } from "../core/errors.ts";
import type { CredentialPlan } from "../core/credential-plan.ts";
import type { Logger } from "../core/log.ts";
import type { FetchToken } from "../core/provider.ts";
import { createEcrAuth } from "./ecr.ts";
import { createTokenFetcher, type AwsAdapters } from "./fetch-token.ts";
import { collectBody, createAgents, createRequestHandler, type Agents, type HttpSettings } from "./http.ts";
import { productUserAgent } from "./retry.ts";
import type { RoleAssumer } from "./sts.ts";
import { describeTrustStore, useTrustStore, type TrustSeam } from "./trust.ts";

export interface AwsSideDeps {
  config: Config;
  log: Logger;
  now: () => Date;
  signal: AbortSignal;
  /** This product's version, for the User-Agent of every AWS request. */
  version: string;
  /** How to put the node's trust store in place (aws/trust.ts); without it, Node's bundled roots. */
  trust?: TrustSeam;
}

/** IMDS: fail fast off EC2 (the SDK default is 1 s and no retry; one retry absorbs a hiccup on EC2). */
const IMDS_TIMEOUT_MS = 1000;
const IMDS_MAX_RETRIES = 1;

/** The lazy half's entry for a run: real adapters, then the fetcher. Nothing is built at import. */
export function wireTokenFetcher(deps: AwsSideDeps): FetchToken {
  const fetcher = createTokenFetcher(deps, createAwsAdapters(deps));
  return async (target, plan) => {
    try {
      return await fetcher(target, plan);
    } catch (err) {
      throw missingConfigFile(err, plan, deps.config.awsEnv, homedir()) ?? err;
    }
  };
}

/**
 * No credentials, and the profile named by AWS_PROFILE lives in files that do not exist: say that
 * (exit 3, configuration) instead of listing every source the chain tried.
 */
export function missingConfigFile(
  err: unknown,
  plan: CredentialPlan,
  env: Readonly<Record<string, string | undefined>>,
  home: string,
  exists: (p: string) => boolean = existsSync,
): ConfigError | undefined {
  if (!(err instanceof CredentialsError) || err.code !== "no_credentials" || plan.source !== "default-chain") return undefined;
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE;
  if (!profile) return undefined;
  const files: [string, string][] = [
    ["AWS_CONFIG_FILE", env.AWS_CONFIG_FILE || `${home}/.aws/config`],
    ["AWS_SHARED_CREDENTIALS_FILE", env.AWS_SHARED_CREDENTIALS_FILE || `${home}/.aws/credentials`],
  ];
  if (files.some(([, p]) => exists(p))) return undefined;
  return new ConfigError(
    "missing_config_file",
    `AWS_PROFILE=${profile} is set but its config file does not exist: ${files.map(([v, p]) => `${p} (${env[v] ? v : `default for ${v}`})`).join(", ")}; ` +
      "put the files there, point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at them in the provider's env, or drop AWS_PROFILE",
    { cause: err },
  );
}

/**
 * The real adapters for this run, sharing one request handler (proxy and timeouts from Config).
 * STS and Roles Anywhere load only when a plan needs them: each costs start-up time on every cold run.
 */
export function createAwsAdapters(deps: AwsSideDeps): AwsAdapters {
  const { config, log } = deps;
  const http: HttpSettings = { proxyEnv: config.proxyEnv, attemptTimeoutMs: config.attemptTimeoutMs, connectTimeoutMs: config.connectTimeoutMs };
  // Before the first TLS context: OpenSSL reads the store's location once per process.
  log.debug("trust store", describeTrustStore(useTrustStore(config.trustEnv, deps.trust)));
  const agents = createAgents(http);
  const requestHandler = createRequestHandler(http, agents);
  const onRetry = (attempt: number, err: unknown, delayMs: number) => log.info("retrying AWS call", { attempt, delayMs, reason: (err as Error)?.message });
  const userAgent = productUserAgent(deps.version);
  let sts: RoleAssumer | undefined;
  return {
    ecr: createEcrAuth({ requestHandler, maxAttempts: config.maxAttempts, endpoints: config.endpoints, onRetry, userAgent, log }),
    roleAssumer: async () =>
      (sts ??= (await import("./sts.ts")).createRoleAssumer({
        requestHandler,
        maxAttempts: config.maxAttempts,
        ...(config.endpoints.sts !== undefined ? { endpoint: config.endpoints.sts } : {}),
        onRetry,
        userAgent,
        log,
      })),
    // STS/SSO calls of the chain carry our User-Agent too; the SDK's notes go to our log, one line each.
    defaultChain: () =>
      fromNodeProviderChain({
        clientConfig: { requestHandler, streamCollector: collectBody, customUserAgent: userAgent },
        logger: sdkLogger(log),
        timeout: IMDS_TIMEOUT_MS,
        maxRetries: IMDS_MAX_RETRIES,
      }),
    rolesAnywhere: () => rolesAnywhereProvider(deps, agents),
  };
}

async function rolesAnywhereProvider(deps: AwsSideDeps, agents: Agents): Promise<AwsCredentialIdentityProvider> {
  const ra = deps.config.rolesAnywhere!;
  let passphrase = ra.passphrase;
  if (ra.passphraseFile) {
    try {
      passphrase = readFileSync(ra.passphraseFile, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      throw new ConfigError(
        "unreadable_passphrase_file",
        `cannot read the private key passphrase file ${ra.passphraseFile}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
        { cause: err },
      );
    }
  }
  deps.log.addSecret(passphrase);
  const { fromRolesAnywhere } = await import("./roles-anywhere/provider.ts");
  return fromRolesAnywhere(
    {
      trustAnchorArn: ra.trustAnchorArn,
      profileArn: ra.profileArn,
      roleArn: ra.roleArn,
      certificatePath: ra.certificate,
      privateKeyPath: ra.privateKey,
      ...(ra.intermediates ? { intermediatesPath: ra.intermediates } : {}),
      ...(passphrase ? { passphrase } : {}),
      durationSeconds: ra.sessionDurationSeconds,
      ...(ra.roleSessionName ? { roleSessionName: ra.roleSessionName } : {}),
      ...(ra.endpoint ? { endpointUrl: ra.endpoint } : {}),
      attemptTimeoutMs: deps.config.attemptTimeoutMs,
      userAgent: productUserAgent(deps.version),
    },
    { now: deps.now, agents: { http: agents.httpAgent, https: agents.httpsAgent }, signal: deps.signal, logger: deps.log },
  );
}

/**
 * The SDK's logger, mapped onto ours: its warnings (e.g. "Multiple credential sources detected",
 * several lines) become one info line, so a failure still prints exactly one line at the default level.
 */
function sdkLogger(log: Logger): {
  debug: (...a: unknown[]) => void;
  info: (...a: unknown[]) => void;
  warn: (...a: unknown[]) => void;
  error: (...a: unknown[]) => void;
} {
  const line = (a: unknown[]) =>
    a
      .map((x) => (typeof x === "string" ? x : JSON.stringify(x)))
      .join(" ")
      .replace(/\s+/g, " ")
      .trim();
  return {
    debug: (...a) => log.debug(`AWS SDK: ${line(a)}`),
    info: (...a) => log.debug(`AWS SDK: ${line(a)}`),
    warn: (...a) => log.info(`AWS SDK: ${line(a)}`),
    error: (...a) => log.info(`AWS SDK: ${line(a)}`),
  };
}
