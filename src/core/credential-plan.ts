// Which AWS identity a run will use, decided from configuration alone (no SDK, no network).

import type { Config } from "./config.ts";
import type { CredentialProviderRequest } from "./protocol.ts";
import { sha256Hex } from "./sha256.ts";

/** Service-account annotations that name the role, most specific first (ecr-role-arn is the reference plugin's). */
export const ROLE_ANNOTATIONS = ["eks.amazonaws.com/ecr-role-arn", "eks.amazonaws.com/role-arn"] as const;

export type CredentialSource = "service-account" | "roles-anywhere" | "default-chain";

/**
 * The credential plan for one request. `identity` keys the token cache: two plans with different
 * identities never share a token. It holds no secret (the SA token appears only as a hash when its
 * claims cannot be read).
 */
export interface CredentialPlan {
  source: CredentialSource;
  /** Human description for `check`, doctor and error messages. */
  description: string;
  identity: string;
  /** Service-account mode: the role to assume with the pod's token. */
  roleArn?: string;
  /** Service-account mode: the pod's token (secret). */
  serviceAccountToken?: string;
  /** Service-account mode: `namespace/name` from the token's claims, when readable. */
  serviceAccount?: string;
}

/** `namespace/name` from a Kubernetes service-account JWT's claims; undefined when unreadable. No signature check: it only scopes our cache. */
export function serviceAccountOf(token: string): string | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<string, any>;
    const k8s = claims["kubernetes.io"];
    const ns = k8s?.namespace;
    const name = k8s?.serviceaccount?.name;
    if (typeof ns === "string" && typeof name === "string") return `${ns}/${name}`;
    const sub = claims.sub;
    const m = typeof sub === "string" ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(sub) : null;
    return m ? `${m[1]}/${m[2]}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decide the credential source. Precedence (documented in the README):
 * 1. service-account role: the request carries a token and a role ARN is named by annotation
 *    `eks.amazonaws.com/ecr-role-arn`, else `eks.amazonaws.com/role-arn`, else env AWS_ECR_ROLE_ARN;
 * 2. IAM Roles Anywhere, when configured (`rolesAnywhereIdentity` gives its identity);
 * 3. the AWS SDK default chain (env keys, profiles, credential_process, SSO, web identity,
 *    container, IMDS). A token without a role ARN falls through to 2 or 3, as the reference does.
 */
export function planCredentials(
  config: Config,
  request: Pick<CredentialProviderRequest, "serviceAccountToken" | "serviceAccountAnnotations">,
  rolesAnywhereIdentity: () => string,
): CredentialPlan {
  const token = request.serviceAccountToken;
  if (token) {
    const ann = request.serviceAccountAnnotations ?? {};
    const roleArn = ROLE_ANNOTATIONS.map((k) => ann[k]).find((v) => typeof v === "string" && v.length > 0) ?? config.ecrRoleArn;
    if (roleArn) {
      const sa = serviceAccountOf(token);
      // A token is never shared across service accounts or roles: both are in the key; an unreadable
      // token is keyed by its hash, so it shares with nobody.
      const who = sa ?? `token-sha256:${sha256Hex(token)}`;
      return {
        source: "service-account",
        description: `service account ${sa ?? "(unnamed)"} → AssumeRoleWithWebIdentity ${roleArn}`,
        identity: `sa|${roleArn}|${who}|${endpointsOf(config)}`,
        roleArn,
        serviceAccountToken: token,
        ...(sa ? { serviceAccount: sa } : {}),
      };
    }
  }
  if (config.rolesAnywhere) {
    const ra = config.rolesAnywhere;
    return {
      source: "roles-anywhere",
      description: `IAM Roles Anywhere (trust anchor ${ra.trustAnchorArn}, role ${ra.roleArn})`,
      identity: `ra|${rolesAnywhereIdentity()}|${ra.sessionDurationSeconds}|${endpointsOf(config)}`,
    };
  }
  const env = config.awsEnv;
  const keys = Object.keys(env).sort();
  return {
    source: "default-chain",
    description: describeDefaultChain(env),
    identity: `default|${keys.map((k) => `${k}=${env[k]}`).join("|")}`,
  };
}

function endpointsOf(config: Config): string {
  const env = config.awsEnv;
  return Object.keys(env)
    .filter((k) => k.startsWith("AWS_ENDPOINT_URL"))
    .sort()
    .map((k) => `${k}=${env[k]}`)
    .join("|");
}

/** What the SDK default chain will most likely use, for humans (the SDK decides at run time). */
export function describeDefaultChain(env: Readonly<Record<string, string>>): string {
  if (env.AWS_ACCESS_KEY_ID) return "AWS SDK default chain: environment variables (AWS_ACCESS_KEY_ID)";
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN) return `AWS SDK default chain: web identity token file → ${env.AWS_ROLE_ARN}`;
  if (env.AWS_PROFILE) return `AWS SDK default chain: profile ${env.AWS_PROFILE}`;
  if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) return "AWS SDK default chain: container credentials";
  return "AWS SDK default chain: shared config/credentials files, then EC2 instance metadata (IMDSv2)";
}
