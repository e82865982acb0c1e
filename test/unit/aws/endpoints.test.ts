import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { createEcrAuth } from "../../../src/aws/ecr.ts";
import { createRoleAssumer } from "../../../src/aws/sts.ts";
import { classifyImage } from "../../../src/core/registry.ts";
import { CredentialsError, UpstreamError } from "../../../src/core/errors.ts";

/** A request handler that records where the SDK would send each request and answers from a script. */
function recorder(answer: (req: any) => { status: number; headers?: Record<string, string>; body: string }) {
  const seen: { url: string; authorization?: string; target?: string }[] = [];
  return {
    seen,
    handler: {
      async handle(req: any) {
        seen.push({
          url: `${req.protocol}//${req.hostname}${req.port ? ":" + req.port : ""}${req.path}`,
          authorization: req.headers.authorization,
          target: req.headers["x-amz-target"],
        });
        const a = answer(req);
        return { response: { statusCode: a.status, headers: a.headers ?? {}, body: Readable.from([Buffer.from(a.body)]) } };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
      destroy() {},
    } as any,
  };
}

const creds = async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" });
const tokenBody = JSON.stringify({ authorizationData: [{ authorizationToken: Buffer.from("AWS:pw").toString("base64"), expiresAt: 2e9 }] });
const publicBody = JSON.stringify({ authorizationData: { authorizationToken: Buffer.from("AWS:pw").toString("base64"), expiresAt: 2e9 } });

const routes: [string, string, string][] = [
  ["123456789012.dkr.ecr.us-west-2.amazonaws.com/app", "https://api.ecr.us-west-2.amazonaws.com/", "us-west-2"],
  ["123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/app", "https://api.ecr.cn-northwest-1.amazonaws.com.cn/", "cn-northwest-1"],
  ["123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/app", "https://api.ecr.us-gov-west-1.amazonaws.com/", "us-gov-west-1"],
  ["123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app", "https://api.ecr-fips.us-gov-west-1.amazonaws.com/", "us-gov-west-1"],
  ["123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app", "https://api.ecr-fips.us-east-1.amazonaws.com/", "us-east-1"],
  ["123456789012.dkr-ecr.us-east-1.on.aws/app", "https://ecr.us-east-1.api.aws/", "us-east-1"],
  ["123456789012.dkr-ecr-fips.us-east-1.on.aws/app", "https://ecr-fips.us-east-1.api.aws/", "us-east-1"],
  ["123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn/app", "https://ecr.cn-north-1.api.amazonwebservices.com.cn/", "cn-north-1"],
  ["123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov/app", "https://api.ecr.us-iso-east-1.c2s.ic.gov/", "us-iso-east-1"],
  ["123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu/app", "https://api.ecr.eusc-de-east-1.amazonaws.eu/", "eusc-de-east-1"],
  ["public.ecr.aws/docker/library/nginx", "https://api.ecr-public.us-east-1.amazonaws.com/", "us-east-1"],
];

for (const [image, url, region] of routes) {
  test(`the ECR call for ${image.split("/")[0]} goes to ${url} signed for ${region}`, async () => {
    const target = classifyImage(image);
    const rec = recorder(() => ({ status: 200, headers: { "content-type": "application/x-amz-json-1.1" }, body: target.kind === "public" ? publicBody : tokenBody }));
    const ecr = createEcrAuth({ requestHandler: rec.handler, maxAttempts: 1, endpoints: {} });
    const token = await ecr.getAuthorizationToken(target, creds, new AbortController().signal);
    assert.equal(rec.seen.length, 1);
    assert.equal(rec.seen[0]!.url, url);
    assert.match(rec.seen[0]!.authorization ?? "", new RegExp(`/${region}/${target.kind === "public" ? "ecr-public" : "ecr"}/aws4_request`));
    assert.equal(token.expiresAt?.getTime(), 2e12);
  });
}

test("AWS_ENDPOINT_URL_ECR replaces the URL only: the signature keeps the registry's region", async () => {
  const target = classifyImage("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app");
  const rec = recorder(() => ({ status: 200, body: tokenBody }));
  const ecr = createEcrAuth({ requestHandler: rec.handler, maxAttempts: 1, endpoints: { ecr: "http://127.0.0.1:9" } });
  await ecr.getAuthorizationToken(target, creds, new AbortController().signal);
  assert.equal(rec.seen[0]!.url, "http://127.0.0.1:9/");
  assert.match(rec.seen[0]!.authorization ?? "", /\/us-gov-west-1\/ecr\/aws4_request/);
});

const stsRoutes: [string, string][] = [
  ["cn-northwest-1", "https://sts.cn-northwest-1.amazonaws.com.cn/"],
  ["us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com/"],
  ["eu-west-1", "https://sts.eu-west-1.amazonaws.com/"],
];
const stsOk = `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`;
for (const [region, url] of stsRoutes) {
  test(`AssumeRoleWithWebIdentity for a registry in ${region} goes to ${url}, unsigned, with session name ecr-credential-provider`, async () => {
    let body = "";
    const rec = recorder((req) => {
      body = String(req.body);
      return { status: 200, headers: { "content-type": "text/xml" }, body: stsOk };
    });
    const sts = createRoleAssumer({ requestHandler: rec.handler, maxAttempts: 1 });
    const c = await sts.assumeRoleWithWebIdentity({ roleArn: "arn:aws:iam::123456789012:role/r", token: "tok", region, signal: new AbortController().signal });
    assert.equal(rec.seen[0]!.url, url);
    assert.equal(rec.seen[0]!.authorization, undefined);
    assert.match(body, /RoleSessionName=ecr-credential-provider/);
    assert.equal(c.accessKeyId, "ASIA1");
  });
}

test("an STS AccessDenied is a credentials error naming the role; no retry", async () => {
  const rec = recorder(() => ({
    status: 403,
    headers: { "content-type": "text/xml" },
    body: "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>",
  }));
  const sts = createRoleAssumer({ requestHandler: rec.handler, maxAttempts: 4 });
  await assert.rejects(
    sts.assumeRoleWithWebIdentity({ roleArn: "arn:aws:iam::123456789012:role/r", token: "tok", region: "us-east-1", signal: new AbortController().signal }),
    (e: unknown) => e instanceof CredentialsError && e.exitCode === 4 && /arn:aws:iam::123456789012:role\/r/.test(e.message) && /AccessDenied/.test(e.message),
  );
  assert.equal(rec.seen.length, 1);
});

test("ECR throttling is retried up to the attempt limit, then reported as upstream throttling", async () => {
  const rec = recorder(() => ({ status: 400, headers: { "x-amzn-errortype": "ThrottlingException" }, body: '{"__type":"ThrottlingException","message":"Rate exceeded"}' }));
  const ecr = createEcrAuth({ requestHandler: rec.handler, maxAttempts: 3, endpoints: {} });
  await assert.rejects(
    ecr.getAuthorizationToken(classifyImage("123456789012.dkr.ecr.us-east-1.amazonaws.com/x"), creds, new AbortController().signal),
    (e: unknown) => e instanceof UpstreamError && e.code === "throttled" && e.retryable,
  );
  assert.equal(rec.seen.length, 3);
});

test("an ECR answer without authorization data is an upstream error", async () => {
  const rec = recorder(() => ({ status: 200, body: '{"authorizationData":[]}' }));
  const ecr = createEcrAuth({ requestHandler: rec.handler, maxAttempts: 1, endpoints: {} });
  await assert.rejects(
    ecr.getAuthorizationToken(classifyImage("123456789012.dkr.ecr.us-east-1.amazonaws.com/x"), creds, new AbortController().signal),
    (e: unknown) => e instanceof UpstreamError && e.code === "no_authorization_data",
  );
});
