// The credential source a plan names is the one used, with fake adapters: no SDK call, no process spawned.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { AwsCredentialIdentity } from "@smithy/types";
import { createTokenFetcher, type AwsAdapters } from "../../../src/aws/fetch-token.ts";
import type { CredentialPlan } from "../../../src/core/credential-plan.ts";
import { createLogger } from "../../../src/core/log.ts";
import type { EcrTarget } from "../../../src/core/registry.ts";

const TARGET: EcrTarget = { kind: "private", partition: "aws-cn", region: "cn-northwest-1", account: "123456789012", fips: false, dualstack: false };
const creds = (tag: string): AwsCredentialIdentity => ({ accessKeyId: `AKID-${tag}`, secretAccessKey: `secret-${tag}`, sessionToken: `session-${tag}` });

/** Fake adapters that record which source was built and which credentials reached ECR. */
function fakes() {
  const calls: string[] = [];
  const seen: string[] = [];
  const adapters: AwsAdapters = {
    ecr: {
      async getAuthorizationToken(target, credentials) {
        const c = await credentials();
        seen.push(`${target.region}:${c.accessKeyId}`);
        return { authorizationToken: Buffer.from(`AWS:pw-${c.accessKeyId}`).toString("base64"), endpoint: "https://fake" };
      },
    },
    roleAssumer: async () => {
      calls.push("sts");
      return {
        async assumeRoleWithWebIdentity({ roleArn, token, region }) {
          calls.push(`assume ${roleArn} ${token} ${region}`);
          return creds("sts");
        },
      };
    },
    defaultChain: () => {
      calls.push("default-chain");
      return async () => creds("chain");
    },
    rolesAnywhere: async () => {
      calls.push("roles-anywhere");
      return async () => creds("ra");
    },
  };
  return { adapters, calls, seen };
}

const plan = (source: CredentialPlan["source"], extra: Partial<CredentialPlan> = {}): CredentialPlan => ({
  source,
  description: source,
  identity: source,
  ...extra,
});

describe("createTokenFetcher picks the plan's credential source", () => {
  const log = () => createLogger({ level: "silent", format: "text", write: () => {}, now: () => new Date(0) });
  const signal = new AbortController().signal;

  it("default chain: built once for all calls of the run", async () => {
    const { adapters, calls, seen } = fakes();
    const fetch = createTokenFetcher({ log: log(), signal }, adapters);
    await fetch(TARGET, plan("default-chain"));
    await fetch(TARGET, plan("default-chain"));
    assert.deepEqual(calls, ["default-chain"]);
    assert.deepEqual(seen, ["cn-northwest-1:AKID-chain", "cn-northwest-1:AKID-chain"]);
  });

  it("service account: AssumeRoleWithWebIdentity in the registry's region with the pod's token; no node credentials", async () => {
    const { adapters, calls, seen } = fakes();
    const fetch = createTokenFetcher({ log: log(), signal }, adapters);
    await fetch(TARGET, plan("service-account", { roleArn: "arn:aws-cn:iam::123456789012:role/r", serviceAccountToken: "jwt" }));
    assert.deepEqual(calls, ["sts", "assume arn:aws-cn:iam::123456789012:role/r jwt cn-northwest-1"]);
    assert.deepEqual(seen, ["cn-northwest-1:AKID-sts"]);
  });

  it("Roles Anywhere: its provider, and nothing else", async () => {
    const { adapters, calls, seen } = fakes();
    const fetch = createTokenFetcher({ log: log(), signal }, adapters);
    await fetch(TARGET, plan("roles-anywhere"));
    assert.deepEqual(calls, ["roles-anywhere"]);
    assert.deepEqual(seen, ["cn-northwest-1:AKID-ra"]);
  });

  it("registers every secret it learns with the logger", async () => {
    const { adapters } = fakes();
    const logger = log();
    const fetch = createTokenFetcher({ log: logger, signal }, adapters);
    const token = await fetch(TARGET, plan("service-account", { roleArn: "arn:aws-cn:iam::123456789012:role/r", serviceAccountToken: "jwt" }));
    const text = `secret-sts session-sts ${token.authorizationToken}`;
    assert.equal(logger.redact(text), "[REDACTED] [REDACTED] [REDACTED]");
  });
});
