// The SDK default chain through the built executable: a profile with credential_process, and a web identity token file.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeAws, fakeAwsEnv, TEST_CREDENTIALS, type FakeAws } from "../helpers/fake-aws.ts";
import { runBinary, request } from "../helpers/run-binary.ts";
import { tempDir } from "../helpers/temp-dir.ts";

let fake: FakeAws;
let dir: string;
before(async () => {
  fake = await startFakeAws();
  dir = tempDir("sources-");
});
after(async () => {
  await fake.close();
});

/** Env with no access keys: the chain must find credentials elsewhere. */
function env(extra: Record<string, string>): Record<string, string> {
  const e = fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", AWS_EC2_METADATA_DISABLED: "true", ...extra });
  delete e.AWS_ACCESS_KEY_ID;
  delete e.AWS_SECRET_ACCESS_KEY;
  return e;
}

test("a profile whose credential_process prints credentials (the aws_signing_helper setup) signs the ECR call", async () => {
  const helper = join(dir, "helper.sh");
  writeFileSync(
    helper,
    `#!/bin/sh\necho '{"Version":1,"AccessKeyId":"${TEST_CREDENTIALS.accessKeyId}","SecretAccessKey":"${TEST_CREDENTIALS.secretAccessKey}"}'\n`,
  );
  chmodSync(helper, 0o755);
  const config = join(dir, "config");
  writeFileSync(config, `[profile ecr]\nregion = cn-northwest-1\ncredential_process = ${helper}\n`);
  const before = fake.ecrCalls().length;
  const r = await runBinary({
    env: env({ AWS_CONFIG_FILE: config, AWS_PROFILE: "ecr" }),
    stdin: request("123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/app"),
  });
  assert.equal(r.code, 0, r.stderr);
  const call = fake.ecrCalls().slice(before)[0]!;
  assert.equal(call.accessKeyId, TEST_CREDENTIALS.accessKeyId);
  assert.equal(call.region, "cn-northwest-1");
  assert.equal(call.status, 200, call.rejected);
});

test("AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE assumes the role through STS and signs ECR with the session", async () => {
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, "web-identity-token-from-file");
  const before = fake.calls.length;
  const r = await runBinary({
    env: env({ AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/node", AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_REGION: "us-west-2" }),
    stdin: request("123456789012.dkr.ecr.us-west-2.amazonaws.com/app"),
  });
  assert.equal(r.code, 0, r.stderr);
  const calls = fake.calls.slice(before);
  const sts = calls.find((c) => c.service === "sts");
  assert.equal(sts?.roleArn, "arn:aws:iam::123456789012:role/node");
  assert.equal(sts?.webIdentityToken, "web-identity-token-from-file");
  const ecr = calls.find((c) => c.service === "ecr")!;
  assert.ok(fake.issuedCredentials.some((c) => c.accessKeyId === ecr.accessKeyId && c.sessionToken === ecr.sessionToken));
});

test("a profile that names no credentials and no IMDS: exit 4 naming the sources checked", async () => {
  const config = join(dir, "empty-config");
  writeFileSync(config, "[profile empty]\nregion = us-east-1\n");
  const r = await runBinary({
    env: env({ AWS_CONFIG_FILE: config, AWS_PROFILE: "empty" }),
    stdin: request("123456789012.dkr.ecr.us-east-1.amazonaws.com/app"),
  });
  assert.equal(r.code, 4, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^ecr-credential-provider: no_credentials: /);
});
