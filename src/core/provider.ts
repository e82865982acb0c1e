// The core flow: image → registry → credential plan → ECR token (cached or fetched) → kubelet response.

import { cacheDuration } from "./cache-duration.ts";
import type { CredentialPlan } from "./credential-plan.ts";
import type { Logger } from "./log.ts";
import type { CredentialProviderRequest, CredentialProviderResponse } from "./protocol.ts";
import { classifyImage, type AliasMap, type ClassifiedImage, type EcrTarget } from "./registry.ts";
import { decodeAuthorizationToken } from "./token.ts";
import { UpstreamError } from "./errors.ts";

/** A token as the AWS side hands it over. `authorizationToken` is base64 of `user:password`: a secret. */
export interface FetchedToken {
  authorizationToken: string;
  expiresAt?: Date;
  /** The API endpoint that answered (for messages and `check`). */
  endpoint: string;
  /** The HTTP Date header of the answer: the doctor's clock-skew check uses it. */
  serverDate?: Date;
}

/** Where tokens come from when the cache cannot answer: the lazily loaded AWS side. */
export type FetchToken = (target: EcrTarget, plan: CredentialPlan) => Promise<FetchedToken>;

/** The token cache port (token-cache.ts implements it on disk). */
export interface TokenStore {
  /** A usable token for `key`, from the cache or from `fetch` (which the store may share between processes). */
  get(key: string, fetch: () => Promise<FetchedToken>): Promise<FetchedToken & { fromCache: boolean; stale?: boolean }>;
}

export interface ProvideDeps {
  aliases: AliasMap;
  now: () => Date;
  log: Logger;
  plan: (request: CredentialProviderRequest) => CredentialPlan;
  fetchToken: FetchToken;
  cache?: TokenStore;
}

/** Everything `check` prints; no secret in it. */
export interface ProvideDetails {
  image: ClassifiedImage;
  plan: Pick<CredentialPlan, "source" | "description" | "roleArn" | "serviceAccount">;
  endpoint: string;
  expiresAt?: Date;
  serverDate?: Date;
  cacheDuration: string;
  fromCache: boolean;
  stale: boolean;
}

/**
 * The cache key of a token: one ECR token serves every registry the identity can reach in one
 * partition and region (ECR Public apart), so account ids are deliberately not part of it.
 */
export function tokenCacheKey(target: EcrTarget, plan: CredentialPlan): string {
  const where = target.kind === "public" ? "ecr-public" : `${target.partition}|${target.region}|fips=${target.fips}|dualstack=${target.dualstack}`;
  return `v1|${where}|${plan.identity}`;
}

/**
 * Answer one request. Throws InputError for a non-ECR image before anything else happens (no
 * AWS call, no cache access); other failures come from the plan, the cache or the AWS side.
 */
export async function provide(
  request: CredentialProviderRequest,
  deps: ProvideDeps,
): Promise<{ response: CredentialProviderResponse; details: ProvideDetails }> {
  const image = classifyImage(request.image, deps.aliases);
  const plan = deps.plan(request);
  deps.log.addSecret(plan.serviceAccountToken);
  const fetch = async () => {
    const t = await deps.fetchToken(image, plan);
    // An answer that is already dead means the node's clock is ahead of AWS's (or a broken upstream):
    // refuse it here so the cache can fall back to a still-valid token instead of storing this one.
    if (t.expiresAt && t.expiresAt.getTime() <= deps.now().getTime()) {
      throw new UpstreamError(
        "expired_token",
        `ECR returned a token that expired at ${t.expiresAt.toISOString()}, before this node's current time ${deps.now().toISOString()}; check the node clock (NTP)`,
      );
    }
    // Validate here too, so a garbled token is neither cached nor preferred over a good cached one.
    decodeAuthorizationToken(t.authorizationToken);
    return t;
  };
  const token = deps.cache ? await deps.cache.get(tokenCacheKey(image, plan), fetch) : { ...(await fetch()), fromCache: false };
  deps.log.addSecret(token.authorizationToken);
  const { username, password } = decodeAuthorizationToken(token.authorizationToken);
  deps.log.addSecret(password);
  const duration = cacheDuration(token.expiresAt, deps.now());
  if ("stale" in token && token.stale) {
    deps.log.warn("answering with a cached token because the refresh failed", { registry: image.authKey, expiresAt: token.expiresAt?.toISOString() });
  }
  deps.log.debug("answered", { registry: image.authKey, region: image.region, source: plan.source, fromCache: token.fromCache, cacheDuration: duration });
  return {
    response: {
      apiVersion: request.apiVersion,
      cacheKeyType: "Registry",
      cacheDuration: duration,
      auth: { [image.authKey]: { username, password } },
    },
    details: {
      image,
      plan: {
        source: plan.source,
        description: plan.description,
        ...(plan.roleArn ? { roleArn: plan.roleArn } : {}),
        ...(plan.serviceAccount ? { serviceAccount: plan.serviceAccount } : {}),
      },
      endpoint: token.endpoint,
      ...(token.expiresAt ? { expiresAt: token.expiresAt } : {}),
      ...(token.serverDate ? { serverDate: token.serverDate } : {}),
      cacheDuration: duration,
      fromCache: token.fromCache,
      stale: "stale" in token && token.stale === true,
    },
  };
}
