// The AWS side of a run: credentials for the plan, then one GetAuthorizationToken. The adapters are injected (aws/wiring.ts builds the real ones).

import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { CredentialPlan } from "../core/credential-plan.ts";
import type { Logger } from "../core/log.ts";
import type { FetchToken } from "../core/provider.ts";
import type { EcrAuth } from "./ecr.ts";
import type { RoleAssumer } from "./sts.ts";

/** The AWS adapters a token fetch may use. Each credential source is built on first use, at most once per run. */
export interface AwsAdapters {
  ecr: EcrAuth;
  /** STS for service-account mode (its client loads only when a plan needs it). */
  roleAssumer: () => Promise<RoleAssumer>;
  /** The SDK's default credential chain. */
  defaultChain: () => AwsCredentialIdentityProvider;
  /** IAM Roles Anywhere (loads only when configured and needed). */
  rolesAnywhere: () => Promise<AwsCredentialIdentityProvider>;
}

export interface TokenFetcherDeps {
  log: Logger;
  signal: AbortSignal;
}

/**
 * The token fetcher for this run: picks the credential source the plan names, then asks ECR.
 * Every secret the AWS side learns is registered with the logger.
 */
export function createTokenFetcher(deps: TokenFetcherDeps, adapters: AwsAdapters): FetchToken {
  const { log, signal } = deps;
  let defaultChain: AwsCredentialIdentityProvider | undefined;
  let rolesAnywhere: AwsCredentialIdentityProvider | undefined;

  const registering = (p: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider => async (props) => {
    const c = await p(props);
    log.addSecret(c.secretAccessKey);
    log.addSecret(c.sessionToken);
    return c;
  };

  const credentialsFor = async (target: { region: string }, plan: CredentialPlan): Promise<AwsCredentialIdentityProvider> => {
    if (plan.source === "service-account") {
      const sts = await adapters.roleAssumer();
      const creds = await sts.assumeRoleWithWebIdentity({ roleArn: plan.roleArn!, token: plan.serviceAccountToken!, region: target.region, signal });
      log.addSecret(creds.secretAccessKey);
      log.addSecret(creds.sessionToken);
      return async () => creds;
    }
    if (plan.source === "roles-anywhere") {
      rolesAnywhere ??= registering(await adapters.rolesAnywhere());
      return rolesAnywhere;
    }
    defaultChain ??= registering(adapters.defaultChain());
    return defaultChain;
  };

  return async (target, plan) => {
    const credentials = await credentialsFor(target, plan);
    const token = await adapters.ecr.getAuthorizationToken(target, credentials, signal);
    log.addSecret(token.authorizationToken);
    return token;
  };
}
