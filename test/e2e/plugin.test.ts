// The built executable against a fake AWS on 127.0.0.1: every host vector, every API version, SA mode, aliases, proxies, errors.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startFakeAws, fakeAwsEnv, fakeSecrets, TEST_CREDENTIALS, type FakeAws } from "../helpers/fake-aws.ts";
import { runBinary, request, type RunResult } from "../helpers/run-binary.ts";
import { kubeletAccepts } from "../helpers/kubelet-accept.ts";
import { startProxy } from "../helpers/proxy.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const hostCases: { image: string; expect: any }[] = JSON.parse(readFileSync(new URL("../fixtures/ecr-hosts.json", import.meta.url), "utf8"));

let fake: FakeAws;
before(async () => {
  fake = await startFakeAws();
});
after(async () => {
  await fake.close();
});

/** Env for a run: fake endpoints, test keys, no cache (each run must reach the fake). */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", ...extra });
}

/** Every secret the fake knows of: none may ever appear on stderr. */
const secrets = () => fakeSecrets(fake);

function assertNoSecrets(r: RunResult, extra: string[] = []) {
  for (const s of [...secrets(), ...extra]) assert.ok(!r.stderr.includes(s), `stderr leaks a secret: ${r.stderr}`);
}

/** A failed run: the documented exit code, nothing on stdout, exactly one stderr line with the code. */
function assertFailure(r: RunResult, exitCode: number, code?: string) {
  assert.equal(r.code, exitCode, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one stderr line, got: ${r.stderr}`);
  assert.match(lines[0]!, /^ecr-credential-provider: [a-z_0-9]+: /);
  if (code) assert.match(lines[0]!, new RegExp(`^ecr-credential-provider: ${code}: `));
  assertNoSecrets(r);
}

function accepted(r: RunResult, apiVersion = V1): any {
  const v = kubeletAccepts({ stdout: r.stdout, exitCode: r.code ?? -1, configuredApiVersion: apiVersion });
  assert.ok(v.accepted, `kubelet would refuse: ${v.accepted ? "" : v.reason}; stderr: ${r.stderr}`);
  return v.response;
}

describe("every host vector through the built executable", () => {
  for (const c of hostCases) {
    if (c.expect.kind === "none") {
      test(`refuses ${JSON.stringify(c.image)} with exit 2 and makes no AWS call`, async () => {
        const before = fake.calls.length;
        const r = await runBinary({ env: env(), stdin: request(c.image) });
        assertFailure(r, 2);
        assert.equal(fake.calls.length, before, "no AWS call for a refused registry");
      });
      continue;
    }
    test(`answers ${c.image} with a token the fake issued for ${c.expect.region} (${c.expect.kind})`, async () => {
      const before = fake.calls.length;
      const r = await runBinary({ env: env(), stdin: request(c.image) });
      const res = accepted(r);
      assert.equal(res.cacheKeyType, "Registry");
      assert.deepEqual(Object.keys(res.auth), [c.expect.authKey]);
      const entry = res.auth[c.expect.authKey];
      assert.equal(entry.username, "AWS");
      const calls = fake.calls.slice(before);
      assert.equal(calls.length, 1, "one ECR call");
      assert.equal(calls[0]!.service, c.expect.kind === "public" ? "ecr-public" : "ecr");
      assert.equal(calls[0]!.region, c.expect.region, "signed for the registry's region");
      assert.equal(calls[0]!.status, 200, calls[0]!.rejected);
      assert.ok(fake.issuedPasswords.includes(entry.password));
      assert.match(res.cacheDuration, /^[0-9]+h[0-9]+m[0-9]+s$/);
      assertNoSecrets(r);
    });
  }
});

describe("protocol", () => {
  for (const v of ["v1", "v1beta1", "v1alpha1"]) {
    test(`answers a ${v} request in ${v}`, async () => {
      const apiVersion = `credentialprovider.kubelet.k8s.io/${v}`;
      const r = await runBinary({ env: env(), stdin: request("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app", apiVersion) });
      const res = accepted(r, apiVersion);
      assert.equal(res.apiVersion, apiVersion);
    });
  }

  test("accepts and ignores a positional get-credentials argument", async () => {
    const r = await runBinary({ args: ["get-credentials"], env: env(), stdin: request("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app") });
    accepted(r);
  });

  test("answers the China scenario: a v1 request for cn-northwest-1 gets a token the fake issued for cn-northwest-1", async () => {
    const before = fake.ecrCalls().length;
    const r = await runBinary({ env: env(), stdin: request("123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/test") });
    const res = accepted(r);
    const pw = res.auth["123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn"].password as string;
    assert.match(pw, /^pw-cn-northwest-1-/);
    assert.equal(fake.ecrCalls().slice(before)[0]!.region, "cn-northwest-1");
  });

  const badInputs: [string, string | Buffer, string][] = [
    ["an empty stdin", "", "empty_request"],
    ["a non-JSON stdin", "hello", "bad_request_json"],
    [
      "an unsupported apiVersion",
      request("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app", "credentialprovider.kubelet.k8s.io/v2"),
      "unsupported_api_version",
    ],
    ["a request over 1 MiB", Buffer.alloc(1024 * 1024 + 10, 0x20), "request_too_large"],
  ];
  for (const [what, stdin, code] of badInputs) {
    test(`refuses ${what} with exit 2 (${code}) and no AWS call`, async () => {
      const before = fake.calls.length;
      const r = await runBinary({ env: env(), stdin });
      assertFailure(r, 2, code);
      assert.equal(fake.calls.length, before);
    });
  }

  test("a stdin that never closes ends at the deadline with exit 2, long before the kubelet's 60 s", async () => {
    const r = await runBinary({ env: env({ ECR_CREDENTIAL_PROVIDER_TIMEOUT: "2s" }), holdStdin: true, killAfterMs: 20_000 });
    assertFailure(r, 2, "stdin_timeout");
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  });

  test("an unknown flag is a configuration error (exit 3)", async () => {
    const r = await runBinary({ args: ["--no-such-flag"], env: env(), stdin: request("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app") });
    assertFailure(r, 3, "unknown_flag");
  });

  test("--version and --help print to stdout and exit 0", async () => {
    const v = await runBinary({ args: ["--version"], env: env() });
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^ecr-credential-provider \S+/);
    const h = await runBinary({ args: ["--help"], env: env() });
    assert.equal(h.code, 0);
    assert.match(h.stdout, /ECR_CREDENTIAL_PROVIDER_REGISTRY_ALIAS/);
  });
});

describe("service-account token mode", () => {
  const token = [
    Buffer.from('{"alg":"RS256"}').toString("base64url"),
    Buffer.from(
      JSON.stringify({ sub: "system:serviceaccount:team-a:puller", "kubernetes.io": { namespace: "team-a", serviceaccount: { name: "puller" } } }),
    ).toString("base64url"),
    "c2lnbmF0dXJl",
  ].join(".");
  const image = "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/app";

  const arnSources: [string, Record<string, string>, Record<string, string>, string][] = [
    [
      "annotation eks.amazonaws.com/ecr-role-arn",
      { "eks.amazonaws.com/ecr-role-arn": "arn:aws-cn:iam::123456789012:role/ecr", "eks.amazonaws.com/role-arn": "arn:aws-cn:iam::123456789012:role/irsa" },
      {},
      "arn:aws-cn:iam::123456789012:role/ecr",
    ],
    [
      "annotation eks.amazonaws.com/role-arn",
      { "eks.amazonaws.com/role-arn": "arn:aws-cn:iam::123456789012:role/irsa" },
      { AWS_ECR_ROLE_ARN: "arn:aws-cn:iam::123456789012:role/env" },
      "arn:aws-cn:iam::123456789012:role/irsa",
    ],
    ["env AWS_ECR_ROLE_ARN", {}, { AWS_ECR_ROLE_ARN: "arn:aws-cn:iam::123456789012:role/env" }, "arn:aws-cn:iam::123456789012:role/env"],
  ];
  for (const [what, annotations, extraEnv, role] of arnSources) {
    test(`takes the role from ${what}, assumes it with the pod's token and signs ECR with the session`, async () => {
      const before = fake.calls.length;
      const r = await runBinary({ env: env(extraEnv), stdin: request(image, V1, { serviceAccountToken: token, serviceAccountAnnotations: annotations }) });
      const res = accepted(r);
      assert.ok(res.auth["123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn"]);
      const calls = fake.calls.slice(before);
      const sts = calls.find((c) => c.service === "sts")!;
      assert.equal(sts.roleArn, role);
      assert.equal(sts.roleSessionName, "ecr-credential-provider");
      assert.equal(sts.webIdentityToken, token);
      const ecr = calls.find((c) => c.service === "ecr")!;
      assert.equal(ecr.region, "cn-northwest-1");
      const issued = fake.issuedCredentials.find((c) => c.accessKeyId === ecr.accessKeyId);
      assert.ok(issued, "ECR was signed with the STS-issued session");
      assert.equal(ecr.sessionToken, issued!.sessionToken);
      assertNoSecrets(r, [token]);
    });
  }

  test("without any role ARN it falls back to the node's credentials, as the reference does", async () => {
    const before = fake.calls.length;
    const r = await runBinary({ env: env(), stdin: request(image, V1, { serviceAccountToken: token }) });
    accepted(r);
    const calls = fake.calls.slice(before);
    assert.equal(calls.filter((c) => c.service === "sts").length, 0);
    assert.equal(calls[0]!.accessKeyId, TEST_CREDENTIALS.accessKeyId);
  });

  test("an STS refusal fails the run with exit 4, makes no ECR call and never prints the token", async () => {
    fake.setStsMode({ kind: "error", status: 403, code: "AccessDenied", message: "Not authorized to perform sts:AssumeRoleWithWebIdentity" });
    try {
      const before = fake.calls.length;
      const r = await runBinary({
        env: env({ AWS_ECR_ROLE_ARN: "arn:aws-cn:iam::123456789012:role/env" }),
        stdin: request(image, V1, { serviceAccountToken: token }),
      });
      assertFailure(r, 4, "access_denied");
      assert.match(r.stderr, /AssumeRoleWithWebIdentity/);
      assert.ok(!r.stderr.includes(token));
      assert.equal(fake.calls.slice(before).filter((c) => c.service === "ecr").length, 0);
    } finally {
      fake.setStsMode({ kind: "ok" });
    }
  });
});

describe("registry aliases", () => {
  test("a flag alias answers for the mirror, keyed by the mirror, with a token for the ECR registry's region", async () => {
    const before = fake.ecrCalls().length;
    const r = await runBinary({
      args: ["--registry-alias", "mirror.internal:5000=123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn"],
      env: env(),
      stdin: request("mirror.internal:5000/team/app"),
    });
    const res = accepted(r);
    assert.deepEqual(Object.keys(res.auth), ["mirror.internal:5000"]);
    assert.equal(fake.ecrCalls().slice(before)[0]!.region, "cn-northwest-1");
  });

  test("an env alias works too, and the flag wins over the env variable", async () => {
    const e = env({
      ECR_CREDENTIAL_PROVIDER_REGISTRY_ALIAS: "a.example=123456789012.dkr.ecr.eu-west-1.amazonaws.com,b.example=123456789012.dkr.ecr.eu-west-2.amazonaws.com",
    });
    const r1 = await runBinary({ env: e, stdin: request("b.example/x") });
    assert.ok(accepted(r1).auth["b.example"]);
    const r2 = await runBinary({ args: ["--registry-alias=c.example=123456789012.dkr.ecr.eu-west-1.amazonaws.com"], env: e, stdin: request("b.example/x") });
    assertFailure(r2, 2, "not_ecr");
  });

  test("an alias to a non-ECR host is refused as configuration (exit 3) with no AWS call", async () => {
    const before = fake.calls.length;
    const r = await runBinary({ args: ["--registry-alias", "mirror=evil.example.com"], env: env(), stdin: request("mirror/x") });
    assertFailure(r, 3, "bad_registry_alias");
    assert.equal(fake.calls.length, before);
  });
});

describe("credentials and network", () => {
  test("with no environment keys, credentials come from IMDSv2 and sign the ECR call", async () => {
    const e = env();
    delete e.AWS_ACCESS_KEY_ID;
    delete e.AWS_SECRET_ACCESS_KEY;
    const before = fake.calls.length;
    const r = await runBinary({ env: e, stdin: request("123456789012.dkr.ecr.us-west-2.amazonaws.com/app") });
    accepted(r);
    const calls = fake.calls.slice(before);
    assert.ok(
      calls.some((c) => c.service === "imds" && c.action === "PUT /latest/api/token"),
      "IMDSv2 session token was requested",
    );
    const ecr = calls.find((c) => c.service === "ecr")!;
    assert.ok(ecr.accessKeyId?.startsWith("ASIA"));
    assert.ok(fake.issuedCredentials.some((c) => c.accessKeyId === ecr.accessKeyId));
  });

  test("when IMDS is unreachable and nothing else is configured, it fails fast with exit 4 naming IMDS", async () => {
    fake.setImdsMode({ kind: "down" });
    try {
      const e = env();
      delete e.AWS_ACCESS_KEY_ID;
      delete e.AWS_SECRET_ACCESS_KEY;
      const r = await runBinary({ env: e, stdin: request("123456789012.dkr.ecr.us-west-2.amazonaws.com/app") });
      assertFailure(r, 4, "no_credentials");
      assert.match(r.stderr, /IMDS/);
      assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    } finally {
      fake.setImdsMode({ kind: "ok" });
    }
  });

  for (const variable of ["HTTP_PROXY", "http_proxy"]) {
    test(`${variable} routes the ECR call through the proxy, and NO_PROXY exempts it`, async () => {
      const proxy = await startProxy();
      try {
        const r = await runBinary({ env: env({ [variable]: proxy.url }), stdin: request("123456789012.dkr.ecr.us-west-2.amazonaws.com/app") });
        accepted(r);
        assert.ok(
          proxy.seen.some((l) => l.includes(`127.0.0.1:${fake.port}`)),
          `proxy saw: ${proxy.seen.join(", ")}`,
        );
        const seen = proxy.seen.length;
        const r2 = await runBinary({
          env: env({ [variable]: proxy.url, NO_PROXY: "127.0.0.1" }),
          stdin: request("123456789012.dkr.ecr.us-west-2.amazonaws.com/app"),
        });
        accepted(r2);
        assert.equal(proxy.seen.length, seen, "NO_PROXY bypasses the proxy");
      } finally {
        await proxy.close();
      }
    });
  }

  test("HTTPS_PROXY tunnels the ECR call to a TLS endpoint with CONNECT, and the signature still verifies", async () => {
    const pki = (f: string) => readFileSync(new URL(`../fixtures/rolesanywhere/${f}`, import.meta.url), "utf8");
    const tlsFake = await startFakeAws({ tls: { cert: pki("extra/server-localhost.cert.pem"), key: pki("extra/server-localhost.key.pem") } });
    const proxy = await startProxy();
    try {
      const caFile = fileURLToPath(new URL("../fixtures/rolesanywhere/pki/root-ca.cert.pem", import.meta.url));
      const e = fakeAwsEnv(tlsFake, { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: caFile });
      const r = await runBinary({ env: e, stdin: request("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app") });
      accepted(r);
      assert.ok(proxy.seen.includes(`CONNECT 127.0.0.1:${new URL(tlsFake.url).port}`), `proxy saw: ${proxy.seen.join(", ")}`);
      assert.equal(tlsFake.ecrCalls()[0]?.status, 200, tlsFake.ecrCalls()[0]?.rejected);
      assert.equal(tlsFake.ecrCalls()[0]?.region, "eu-west-1");
    } finally {
      await proxy.close();
      await tlsFake.close();
    }
  });

  test("IMDS stays direct while a proxy is set", async () => {
    const proxy = await startProxy();
    try {
      const e = env({ HTTP_PROXY: proxy.url });
      delete e.AWS_ACCESS_KEY_ID;
      delete e.AWS_SECRET_ACCESS_KEY;
      const r = await runBinary({ env: e, stdin: request("123456789012.dkr.ecr.us-west-2.amazonaws.com/app") });
      accepted(r);
      assert.ok(!proxy.seen.some((l) => l.includes("/latest/")), `IMDS went through the proxy: ${proxy.seen.join(", ")}`);
      assert.ok(proxy.seen.length > 0, "the ECR call did use the proxy");
    } finally {
      await proxy.close();
    }
  });
});

describe("upstream failures", () => {
  const image = "123456789012.dkr.ecr.us-west-2.amazonaws.com/app";
  test("AccessDenied from ECR is exit 4 naming the call and region", async () => {
    fake.setEcrMode({ kind: "error", status: 400, type: "AccessDeniedException", message: "User is not authorized to perform ecr:GetAuthorizationToken" });
    try {
      const r = await runBinary({ env: env(), stdin: request(image) });
      assertFailure(r, 4, "access_denied");
      assert.match(r.stderr, /GetAuthorizationToken in us-west-2/);
    } finally {
      fake.setEcrMode({ kind: "ok" });
    }
  });

  test("persistent 500s are retried a bounded number of times, then exit 5", async () => {
    fake.setEcrMode({ kind: "error", status: 500, type: "ServerException" });
    try {
      const before = fake.ecrCalls().length;
      const r = await runBinary({ env: env(), stdin: request(image) });
      assertFailure(r, 5, "upstream_5xx");
      assert.equal(fake.ecrCalls().length - before, 4, "four attempts");
    } finally {
      fake.setEcrMode({ kind: "ok" });
    }
  });

  test("one throttled answer is retried and the run succeeds", async () => {
    fake.setEcrMode({ kind: "error", status: 400, type: "ThrottlingException", message: "Rate exceeded" }, 1);
    const r = await runBinary({ env: env(), stdin: request(image) });
    accepted(r);
  });

  test("an ECR slower than the deadline ends with exit 5 at the deadline", async () => {
    fake.setEcrMode({ kind: "slow", ms: 20_000 });
    try {
      const r = await runBinary({ env: env({ ECR_CREDENTIAL_PROVIDER_TIMEOUT: "2s" }), stdin: request(image), killAfterMs: 30_000 });
      assertFailure(r, 5, "timeout");
      assert.ok(r.ms < 8_000, `took ${r.ms} ms`);
    } finally {
      fake.setEcrMode({ kind: "ok" });
    }
  });
});

describe("check", () => {
  test("prints a redacted summary: registry, partition, region, endpoint, source, expiry, never the password", async () => {
    const before = fake.issuedPasswords.length;
    const r = await runBinary({ args: ["check", "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/test"], env: env() });
    assert.equal(r.code, 0, r.stderr);
    for (const want of [
      /registry\s+123456789012\.dkr\.ecr\.cn-northwest-1\.amazonaws\.com\.cn/,
      /partition\s+aws-cn/,
      /region\s+cn-northwest-1/,
      /API endpoint\s+http:\/\/127\.0\.0\.1/,
      /credential source\s+AWS SDK default chain/,
      /token expires\s+20\d\d-/,
      /cacheDuration\s+\d+h/,
    ]) {
      assert.match(r.stdout, want);
    }
    const pw = fake.issuedPasswords[before]!;
    assert.ok(pw && !r.stdout.includes(pw) && !r.stderr.includes(pw));
  });
});
