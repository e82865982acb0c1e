// Logs and messages that tell the truth, from the built executable: JSON logs all the way down to the
// failure line, every step at debug level without a secret, the right cause for network failures and
// non-JSON answers, and a User-Agent naming this product on every AWS request, Roles Anywhere included.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { startFakeAws, fakeAwsEnv, fakeSecrets, type FakeAws } from "../helpers/fake-aws.ts";
import { binaryAvailable, runBinary, request } from "../helpers/run-binary.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const IMAGE = "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/app";
const VERSION = (
  JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8"))) as { version: string }
).version;

let fake: FakeAws;
/** Answers every request with `answer`: an HTML proxy page, an XML error… */
let odd: Server;
let answer: { status: number; headers: Record<string, string>; body: string } = { status: 502, headers: {}, body: "" };
before(async () => {
  fake = await startFakeAws();
  odd = createServer((_req, res) => res.writeHead(answer.status, answer.headers).end(answer.body));
  await new Promise<void>((r) => odd.listen(0, "127.0.0.1", r));
});
after(async () => {
  await fake?.close();
  await new Promise((r) => odd?.close(r));
});
const oddUrl = () => `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
const skip = !binaryAvailable() && "dist/ecr-credential-provider is not built";
const noCache = (extra: Record<string, string> = {}) => fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", ...extra });

/** Every secret the fake knows of: none may ever appear on stderr. */
const secrets = () => fakeSecrets(fake);

describe("--log-format=json: every stderr line is JSON, the failure line included", { skip }, () => {
  for (const [what, args, env, exit, code] of [
    ["a refused image", ["--log-format=json", "--log-level=debug"], {}, 2, "not_ecr"],
    ["a bad flag value (format from the flag)", ["--log-format=json", "--timeout=90s"], {}, 3, "bad_flag_value"],
    ["an unknown option (format from the environment)", ["-x"], { ECR_CREDENTIAL_PROVIDER_LOG_FORMAT: "json" }, 3, "unknown_flag"],
  ] as const) {
    test(what, async () => {
      const r = await runBinary({ args: [...args], env: noCache(env), stdin: request("registry.example.com/app") });
      assert.equal(r.code, exit, r.stderr);
      const lines = r.stderr
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const failures = lines.filter((l) => l.level === "error");
      assert.equal(failures.length, 1, r.stderr);
      const last = failures[0]!;
      assert.equal(last.level, "error");
      assert.equal(last.code, code);
      assert.equal(last.exitCode, exit);
      assert.equal(typeof last.msg, "string");
    });
  }
});

describe("--log-level=debug shows each step, never a secret", { skip }, () => {
  test("settings with their sources, classification, credential source, cache lookup, lock, each AWS attempt, cache write", async () => {
    const cacheDir = join(tempDir("logs-debug-"), "c");
    const r = await runBinary({
      args: ["--log-level=debug", "--timeout=20s"],
      env: fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: cacheDir }),
      stdin: request(IMAGE),
    });
    assert.equal(r.code, 0, r.stderr);
    const has = (re: RegExp, what: string) => assert.match(r.stderr, re, `debug shows ${what}\n${r.stderr}`);
    has(/debug: settings .*log-level="debug \(flag\)".*timeout="20000ms \(flag\)".*cache-dir="\S+ \(env\)"/, "each setting and where it came from");
    has(
      /debug: image classified registry=123456789012\.dkr\.ecr\.cn-northwest-1\.amazonaws\.com\.cn kind=private .*partition=aws-cn region=cn-northwest-1/,
      "the classification",
    );
    has(/debug: credential source source=default-chain /, "the credential source");
    has(/debug: cache lookup file=[0-9a-f]{40}\.json result=miss/, "the cache lookup");
    has(/debug: cache lock lock=[0-9a-f]{40}\.lock result=taken/, "the lock");
    has(/debug: AWS attempt call="ECR GetAuthorizationToken in cn-northwest-1 \(http:\/\/127\.0\.0\.1:\d+\)" attempt=1 status=200 ms=\d+/, "each AWS attempt");
    has(/debug: cache write file=[0-9a-f]{40}\.json expiresAt=/, "the cache write");
    for (const s of secrets()) assert.ok(!r.stderr.includes(s), "a secret in the debug log");
    const again = await runBinary({
      args: ["--log-level=debug"],
      env: fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: cacheDir }),
      stdin: request(IMAGE),
    });
    assert.match(again.stderr, /debug: cache lookup file=[0-9a-f]{40}\.json result=fresh/);
  });

  test("each retry is an attempt line with its status", async () => {
    fake.setEcrMode({ kind: "error", status: 503, type: "ServiceUnavailableException" });
    try {
      const r = await runBinary({ args: ["--log-level=debug"], env: noCache(), stdin: request(IMAGE) });
      assert.equal(r.code, 5);
      assert.equal((r.stderr.match(/debug: AWS attempt .* status=503 /g) ?? []).length, 4, r.stderr);
    } finally {
      fake.setEcrMode({ kind: "ok" });
    }
  });
});

describe("the failure line names the right cause", { skip }, () => {
  test("a name that does not resolve is a network problem, not IAM", async () => {
    const r = await runBinary({ args: ["--timeout=10s"], env: noCache({ AWS_ENDPOINT_URL_ECR: "http://ecr.invalid" }), stdin: request(IMAGE) });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /^ecr-credential-provider: network: .*a network problem \((ENOTFOUND|EAI_AGAIN)\b.*DNS/);
    assert.doesNotMatch(r.stderr, /ecr:GetAuthorizationToken|credentials allow/);
  });

  test("a refused connection is a network problem, not IAM", async () => {
    const r = await runBinary({ args: ["--timeout=10s"], env: noCache({ AWS_ENDPOINT_URL_ECR: "http://127.0.0.1:1" }), stdin: request(IMAGE) });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /^ecr-credential-provider: network: .*\(ECONNREFUSED\b.*proxy/);
    assert.doesNotMatch(r.stderr, /credentials allow/);
  });

  for (const [what, a, exit, code, keep] of [
    [
      "a proxy's HTML 502 page",
      { status: 502, headers: { "content-type": "text/html" }, body: "<html><h1>502 Bad Gateway</h1></html>" },
      5,
      "upstream_5xx",
      /HTTP 502.*text\/html/,
    ],
    [
      "an XML 403 with the AWS error type in its header",
      {
        status: 403,
        headers: { "content-type": "text/xml", "x-amzn-errortype": "AccessDeniedException:http://internal.amazon.com/" },
        body: "<Error><Code>AccessDeniedException</Code></Error>",
      },
      4,
      "access_denied",
      /AccessDeniedException: HTTP 403/,
    ],
    ["a plain-text 400", { status: 400, headers: { "content-type": "text/plain" }, body: "Bad Request" }, 5, "upstream_4xx", /HTTP 400.*text\/plain/],
  ] as const) {
    test(`${what}: the HTTP status and error type, not a JSON parser's message`, async () => {
      answer = a;
      const r = await runBinary({ env: noCache({ AWS_ENDPOINT_URL_ECR: oddUrl() }), stdin: request(IMAGE) });
      assert.equal(r.code, exit, r.stderr);
      assert.match(r.stderr, new RegExp(`^ecr-credential-provider: ${code}: `));
      assert.match(r.stderr, keep);
      assert.doesNotMatch(r.stderr, /Unexpected token|not valid JSON|SyntaxError|Deserialization/);
    });
  }

  test("a request without kind, `check ''` and a missing profile file each have their own message", async () => {
    const noKind = await runBinary({ env: noCache(), stdin: JSON.stringify({ apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: IMAGE }) });
    assert.equal(noKind.code, 2);
    assert.match(noKind.stderr, /^ecr-credential-provider: missing_kind: the request has no "kind"/);
    const empty = await runBinary({ args: ["check", ""], env: noCache() });
    assert.equal(empty.code, 3);
    assert.match(empty.stderr, /^ecr-credential-provider: no_image: check needs an image/);
    const { AWS_ACCESS_KEY_ID: _a, AWS_SECRET_ACCESS_KEY: _s, ...bare } = noCache({ AWS_PROFILE: "ops", AWS_EC2_METADATA_DISABLED: "true" });
    const profile = await runBinary({ args: ["check", IMAGE], env: bare });
    assert.equal(profile.code, 3, profile.stderr);
    assert.match(
      profile.stderr,
      /^ecr-credential-provider: missing_config_file: AWS_PROFILE=ops is set but its config file does not exist: \/nonexistent\/aws-config/,
    );
    assert.equal(profile.stderr.trimEnd().split("\n").length, 1, profile.stderr);
  });
});

describe("User-Agent", { skip }, () => {
  test("every AWS request names this product and version: ECR, ECR Public, STS", async () => {
    const before = fake.calls.length;
    const token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDphcHAifQ.sig";
    for (const [image, extra] of [
      [IMAGE, {}],
      ["public.ecr.aws/docker/library/nginx", {}],
      [IMAGE, { serviceAccountToken: token, serviceAccountAnnotations: { "eks.amazonaws.com/ecr-role-arn": "arn:aws-cn:iam::123456789012:role/pull" } }],
    ] as const) {
      const r = await runBinary({ env: noCache(), stdin: request(image, undefined, extra) });
      assert.equal(r.code, 0, r.stderr);
    }
    const calls = fake.calls.slice(before);
    assert.deepEqual([...new Set(calls.map((c) => c.service))].sort(), ["ecr", "ecr-public", "sts"]);
    for (const c of calls) assert.ok(c.userAgent?.includes(`ecr-credential-provider/${VERSION}`), `${c.service} ${c.action}: ${c.userAgent}`);
  });
});
