// The one place the real AWS adapters are built from Config: HTTP handler, ECR, STS, the default chain, Roles Anywhere.

import { readFileSync } from "node:fs";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { Config } from "../core/config.ts";
import { ConfigError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { FetchToken } from "../core/provider.ts";
import { createEcrAuth } from "./ecr.ts";
import { createTokenFetcher, type AwsAdapters } from "./fetch-token.ts";
import { createAgents, createRequestHandler, type HttpSettings } from "./http.ts";
import type { RoleAssumer } from "./sts.ts";

export interface AwsSideDeps {
  config: Config;
  log: Logger;
  now: () => Date;
  signal: AbortSignal;
}

/** IMDS: fail fast off EC2 (the SDK default is 1 s and no retry; one retry absorbs a hiccup on EC2). */
const IMDS_TIMEOUT_MS = 1000;
const IMDS_MAX_RETRIES = 1;

/** The lazy half's entry for a run: real adapters, then the fetcher. Nothing is built at import. */
export function wireTokenFetcher(deps: AwsSideDeps): FetchToken {
  return createTokenFetcher(deps, createAwsAdapters(deps));
}

/**
 * The real adapters for this run, sharing one request handler (proxy and timeouts from Config).
 * STS and Roles Anywhere load only when a plan needs them: each costs start-up time on every cold run.
 */
export function createAwsAdapters(deps: AwsSideDeps): AwsAdapters {
  const { config, log } = deps;
  const http: HttpSettings = { proxyEnv: config.proxyEnv, attemptTimeoutMs: config.attemptTimeoutMs, connectTimeoutMs: config.connectTimeoutMs };
  const requestHandler = createRequestHandler(http);
  const onRetry = (attempt: number, err: unknown, delayMs: number) => log.info("retrying AWS call", { attempt, delayMs, reason: (err as Error)?.message });
  let sts: RoleAssumer | undefined;
  return {
    ecr: createEcrAuth({ requestHandler, maxAttempts: config.maxAttempts, endpoints: config.endpoints, onRetry }),
    roleAssumer: async () =>
      (sts ??= (await import("./sts.ts")).createRoleAssumer({
        requestHandler,
        maxAttempts: config.maxAttempts,
        ...(config.endpoints.sts !== undefined ? { endpoint: config.endpoints.sts } : {}),
        onRetry,
      })),
    defaultChain: () => fromNodeProviderChain({ clientConfig: { requestHandler }, timeout: IMDS_TIMEOUT_MS, maxRetries: IMDS_MAX_RETRIES }),
    rolesAnywhere: () => rolesAnywhereProvider(deps, createAgents(http)),
  };
}

async function rolesAnywhereProvider(deps: AwsSideDeps, agents: ReturnType<typeof createAgents>): Promise<AwsCredentialIdentityProvider> {
  const ra = deps.config.rolesAnywhere!;
  let passphrase = ra.passphrase;
  if (ra.passphraseFile) {
    try {
      passphrase = readFileSync(ra.passphraseFile, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      throw new ConfigError("unreadable_passphrase_file", `cannot read the private key passphrase file ${ra.passphraseFile}: ${(err as NodeJS.ErrnoException).code ?? "error"}`, { cause: err });
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
    },
    { now: deps.now, agents: { http: agents.httpAgent, https: agents.httpsAgent }, signal: deps.signal, logger: deps.log },
  );
}
