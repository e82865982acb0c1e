// Service-account mode: AssumeRoleWithWebIdentity with the pod's token, in the registry's region and partition.

import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { AwsRequestHandler } from "./ecr.ts";
import { UpstreamError } from "../core/errors.ts";
import { mapAwsError } from "./errors.ts";
import { collectBody } from "./http.ts";
import { awsRetryPolicy, loggedAttempt, withRetries, type AttemptLog } from "./retry.ts";

/** Session name the reference plugin uses; CloudTrail shows it. */
export const ROLE_SESSION_NAME = "ecr-credential-provider";

export interface RoleAssumer {
  assumeRoleWithWebIdentity(input: { roleArn: string; token: string; region: string; signal: AbortSignal }): Promise<AwsCredentialIdentity>;
}

export interface StsSettings {
  requestHandler: AwsRequestHandler;
  maxAttempts: number;
  /** AWS_ENDPOINT_URL_STS (else AWS_ENDPOINT_URL), from Config.endpoints. */
  endpoint?: string;
  onRetry?: (attempt: number, err: unknown, delayMs: number) => void;
  /** `ecr-credential-provider/<version>`, added to the SDK's User-Agent. */
  userAgent?: string;
  /** Debug log of each attempt. */
  log?: AttemptLog;
}

/**
 * The SDK-backed role assumer. The call is unsigned (the web identity token is the proof), so
 * no node credentials are needed. Failures are fatal for the run: no fallback to node credentials
 * once a role was named, as the reference does.
 */
export function createRoleAssumer(settings: StsSettings): RoleAssumer {
  return {
    async assumeRoleWithWebIdentity({ roleArn, token, region, signal }) {
      const endpoint = settings.endpoint;
      const client = new STSClient({
        region,
        requestHandler: settings.requestHandler,
        streamCollector: collectBody,
        maxAttempts: 1,
        ...(settings.userAgent ? { customUserAgent: settings.userAgent } : {}),
        ...(endpoint ? { endpoint } : {}),
      });
      const what = `STS AssumeRoleWithWebIdentity for ${roleArn} in ${region}`;
      const hint = "check the role's trust policy allows the cluster's OIDC provider and this service account, and the token audience";
      try {
        const out = await withRetries(
          async (attempt) => {
            try {
              return await loggedAttempt(settings.log, `${what} (${endpoint ?? "regional endpoint"})`, attempt, () =>
                client.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: ROLE_SESSION_NAME, WebIdentityToken: token }), {
                  abortSignal: signal as any,
                }),
              );
            } catch (err) {
              throw mapAwsError(err, what, hint, signal);
            }
          },
          { ...awsRetryPolicy(settings.maxAttempts), signal, ...(settings.onRetry ? { onRetry: settings.onRetry } : {}) },
        );
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
          throw new UpstreamError("sts_no_credentials", `${what} returned no credentials`);
        }
        return {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          sessionToken: c.SessionToken,
          ...(c.Expiration ? { expiration: c.Expiration } : {}),
        };
      } finally {
        client.destroy();
      }
    },
  };
}
