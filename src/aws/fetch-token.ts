// The AWS side of a run, loaded lazily: credentials for the plan, then one GetAuthorizationToken.

import { readFileSync } from "node:fs";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { Config } from "../core/config.ts";
import { ConfigError } from "../core/errors.ts";
import type { CredentialPlan } from "../core/credential-plan.ts";
import type { Logger } from "../core/log.ts";
import type { FetchedToken } from "../core/provider.ts";
import type { EcrTarget } from "../core/registry.ts";
import { createEcrAuth } from "./ecr.ts";
import { createAgents, createRequestHandler } from "./http.ts";
import type { RoleAssumer } from "./sts.ts";

export interface AwsSideDeps {
  config: Config;
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  now: () => Date;
  signal: AbortSignal;
}

/** IMDS: fail fast off EC2 (the SDK default is 1 s and no retry; one retry absorbs a hiccup on EC2). */
const IMDS_TIMEOUT_MS = 1000;
const IMDS_MAX_RETRIES = 1;

/**
 * Build the token fetcher for this run. Clients and agents are created here, once per run,
 * never at import. Every secret the AWS side learns is registered with the logger.
 */
export function createTokenFetcher(deps: AwsSideDeps): (target: EcrTarget, plan: CredentialPlan) => Promise<FetchedToken> {
  const { config, log, signal } = deps;
  const http = { env: deps.env, attemptTimeoutMs: config.attemptTimeoutMs, connectTimeoutMs: config.connectTimeoutMs };
  const requestHandler = createRequestHandler(http);
  const onRetry = (attempt: number, err: unknown, delayMs: number) =>
    log.info("retrying AWS call", { attempt, delayMs, reason: (err as Error)?.message });
  const ecr = createEcrAuth({ requestHandler, maxAttempts: config.maxAttempts, env: deps.env, onRetry });
  // STS and Roles Anywhere load only when the plan needs them: each costs start-up time on every cold run.
  let sts: RoleAssumer | undefined;
  let defaultChain: AwsCredentialIdentityProvider | undefined;
  let rolesAnywhere: AwsCredentialIdentityProvider | undefined;

  const registering = (p: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider => async (props) => {
    const c = await p(props);
    log.addSecret(c.secretAccessKey);
    log.addSecret(c.sessionToken);
    return c;
  };

  const credentialsFor = async (target: EcrTarget, plan: CredentialPlan): Promise<AwsCredentialIdentityProvider> => {
    if (plan.source === "service-account") {
      sts ??= (await import("./sts.ts")).createRoleAssumer({ requestHandler, maxAttempts: config.maxAttempts, env: deps.env, onRetry });
      const creds = await sts.assumeRoleWithWebIdentity({ roleArn: plan.roleArn!, token: plan.serviceAccountToken!, region: target.region, signal });
      log.addSecret(creds.secretAccessKey);
      log.addSecret(creds.sessionToken);
      return async () => creds;
    }
    if (plan.source === "roles-anywhere") {
      rolesAnywhere ??= registering(await rolesAnywhereProvider(deps, createAgents(http)));
      return rolesAnywhere;
    }
    defaultChain ??= registering(
      fromNodeProviderChain({
        clientConfig: { requestHandler },
        timeout: IMDS_TIMEOUT_MS,
        maxRetries: IMDS_MAX_RETRIES,
      }),
    );
    return defaultChain;
  };

  return async (target, plan) => {
    const credentials = await credentialsFor(target, plan);
    const token = await ecr.getAuthorizationToken(target, credentials, signal);
    log.addSecret(token.authorizationToken);
    return token;
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
