// The EcrAuth port and its SDK adapter: GetAuthorizationToken for a private registry's region or ECR Public.

import { ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { UpstreamError } from "../core/errors.ts";
import type { AwsEndpoints } from "../core/config.ts";
import type { FetchedToken } from "../core/provider.ts";
import type { EcrTarget } from "../core/registry.ts";
import { mapAwsError } from "./errors.ts";
import { collectBody } from "./http.ts";
import { awsRetryPolicy, loggedAttempt, withRetries, type AttemptLog } from "./retry.ts";

/** The one thing the core needs from ECR: a token (FetchedToken: `authorizationToken` is a secret). */
export interface EcrAuth {
  getAuthorizationToken(target: EcrTarget, credentials: AwsCredentialIdentityProvider, signal: AbortSignal): Promise<FetchedToken>;
}

/** Any SDK request handler: our NodeHttpHandler in production, a recorder in tests. */
export type AwsRequestHandler = NonNullable<ConstructorParameters<typeof ECRClient>[0]>["requestHandler"];

export interface EcrAuthSettings {
  requestHandler: AwsRequestHandler;
  maxAttempts: number;
  /** Config.endpoints: `ecr` for private registries, `ecrPublic` for ECR Public. */
  endpoints: Pick<AwsEndpoints, "ecr" | "ecrPublic">;
  onRetry?: (attempt: number, err: unknown, delayMs: number) => void;
  /** `ecr-credential-provider/<version>`, added to the SDK's User-Agent. */
  userAgent?: string;
  /** Debug log of each attempt (endpoint, status, duration). */
  log?: AttemptLog;
}

/**
 * FIPS / dual-stack follow the registry host the image named, not only AWS_USE_FIPS_ENDPOINT.
 * With an explicit endpoint (AWS_ENDPOINT_URL_ECR…) the SDK refuses FIPS/dual-stack flags, and the
 * operator's URL wins anyway.
 */
function endpointFlags(target: EcrTarget, overridden: boolean): { useFipsEndpoint?: boolean; useDualstackEndpoint?: boolean } {
  // Explicitly off with an override: AWS_USE_FIPS_ENDPOINT / AWS_USE_DUALSTACK_ENDPOINT must not make the SDK refuse the operator's URL.
  if (overridden) return { useFipsEndpoint: false, useDualstackEndpoint: false };
  return { useFipsEndpoint: target.fips, useDualstackEndpoint: target.dualstack };
}

/** Capture the answer's Date header; the SDK does not surface it. */
function dateCapture(): { middleware: any; get: () => Date | undefined } {
  let date: Date | undefined;
  const middleware = (next: any) => async (args: any) => {
    const out = await next(args);
    const raw = out?.response?.headers?.date;
    if (typeof raw === "string") {
      const d = new Date(raw);
      if (!Number.isNaN(d.getTime())) date = d;
    }
    return out;
  };
  return { middleware, get: () => date };
}

async function resolveEndpoint(client: { config: any }, fallback: string): Promise<string> {
  try {
    const ep = await client.config.endpointProvider(
      {
        Region: await client.config.region(),
        UseFIPS: await client.config.useFipsEndpoint(),
        UseDualStack: await client.config.useDualstackEndpoint(),
        ...(client.config.endpoint ? { Endpoint: (await client.config.endpoint()).hostname } : {}),
      },
      {},
    );
    return ep?.url?.href ?? fallback;
  } catch {
    return fallback;
  }
}

/** The client settings both ECR clients share: our handler and body reader, no SDK retries (ours are bounded by the deadline). */
function clientConfig(settings: EcrAuthSettings, target: EcrTarget, credentials: AwsCredentialIdentityProvider, override: string | undefined) {
  return {
    region: target.region,
    credentials,
    requestHandler: settings.requestHandler,
    streamCollector: collectBody,
    // Retries are ours (withRetries): one policy, bounded by our deadline.
    maxAttempts: 1,
    ...(settings.userAgent ? { customUserAgent: settings.userAgent } : {}),
    ...endpointFlags(target, override !== undefined),
    ...(override !== undefined ? { endpoint: override } : {}),
  };
}

/** The SDK-backed EcrAuth. Each call builds its client (one per run; nothing is built at import). */
export function createEcrAuth(settings: EcrAuthSettings): EcrAuth {
  return {
    async getAuthorizationToken(target, credentials, signal) {
      const isPublic = target.kind === "public";
      const override = isPublic ? settings.endpoints.ecrPublic : settings.endpoints.ecr;
      const common = clientConfig(settings, target, credentials, override);
      const capture = dateCapture();
      // ECR Public's client loads only for public.ecr.aws: most runs never need it.
      const pub = isPublic ? await import("@aws-sdk/client-ecr-public") : undefined;
      const client = pub ? new pub.ECRPUBLICClient(common) : new ECRClient(common);
      client.middlewareStack.add(capture.middleware, { step: "deserialize", name: "ecrCredentialProviderDate" });
      const endpoint = override ?? (await resolveEndpoint(client, `${isPublic ? "ecr-public" : "ecr"} in ${target.region}`));
      const what = `${isPublic ? "ECR Public" : "ECR"} GetAuthorizationToken in ${target.region} (${endpoint})`;
      const hint = isPublic
        ? "check the credentials allow ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken, and the network path to us-east-1"
        : `check the credentials allow ecr:GetAuthorizationToken in ${target.partition}/${target.region} and the network path to ${endpoint}`;
      try {
        const data = await withRetries(
          async (attempt) => {
            try {
              if (pub) {
                const out = await loggedAttempt(settings.log, what, attempt, () =>
                  (client as InstanceType<typeof pub.ECRPUBLICClient>).send(new pub.GetAuthorizationTokenCommand({}), { abortSignal: signal as any }),
                );
                return out.authorizationData;
              }
              const out = await loggedAttempt(settings.log, what, attempt, () =>
                (client as ECRClient).send(new GetAuthorizationTokenCommand({}), { abortSignal: signal as any }),
              );
              if (!Array.isArray(out.authorizationData) || out.authorizationData.length === 0) return undefined;
              return out.authorizationData[0];
            } catch (err) {
              throw mapAwsError(err, what, hint, signal);
            }
          },
          { ...awsRetryPolicy(settings.maxAttempts), signal, ...(settings.onRetry ? { onRetry: settings.onRetry } : {}) },
        );
        if (!data || typeof data.authorizationToken !== "string" || data.authorizationToken.length === 0) {
          throw new UpstreamError("no_authorization_data", `${what} returned no authorization data`);
        }
        const expiresAt = data.expiresAt instanceof Date && !Number.isNaN(data.expiresAt.getTime()) ? data.expiresAt : undefined;
        const serverDate = capture.get();
        return {
          authorizationToken: data.authorizationToken,
          ...(expiresAt ? { expiresAt } : {}),
          endpoint,
          ...(serverDate ? { serverDate } : {}),
        };
      } finally {
        client.destroy();
      }
    },
  };
}
