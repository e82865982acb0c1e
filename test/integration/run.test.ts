// run() with in-memory streams, a fake AWS side and a fixed clock: the harness contract without sockets.

import { test } from "node:test";
import assert from "node:assert/strict";
import { run, type RunDeps } from "../../src/plugin/run.ts";
import type { FetchToken, FetchedToken } from "../../src/core/provider.ts";
import { UpstreamError, CredentialsError } from "../../src/core/errors.ts";
import { kubeletAccepts } from "../helpers/kubelet-accept.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
const PASSWORD = "Zm9vYmFyc2VjcmV0cGFzc3dvcmQ";

async function* from(s: string) {
  yield Buffer.from(s);
}

function harness(opts: { argv?: string[]; env?: Record<string, string>; stdin?: string; fetch?: FetchToken } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const fetched: { region: string; source: string }[] = [];
  const fetch: FetchToken =
    opts.fetch ??
    (async (target, plan) => {
      fetched.push({ region: target.region, source: plan.source });
      return {
        authorizationToken: Buffer.from(`AWS:${PASSWORD}`).toString("base64"),
        expiresAt: new Date(NOW.getTime() + 12 * 3600_000),
        endpoint: "https://api.ecr.fake",
      };
    });
  let fetcherBuilt = 0;
  const deps: RunDeps = {
    argv: opts.argv ?? [],
    env: { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", ...(opts.env ?? {}) },
    now: () => NOW,
    version: "test",
    readFileSync: () => Buffer.from("cert"),
    createFetcher: async () => {
      fetcherBuilt++;
      return fetch;
    },
  };
  return {
    out,
    err,
    fetched,
    fetcherBuilt: () => fetcherBuilt,
    go: () => run({ stdin: from(opts.stdin ?? ""), writeStdout: (s) => out.push(s), writeStderr: (s) => err.push(s) }, deps),
  };
}

const req = (image: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image, ...extra });

test("a request for a private registry yields one accepted response with a six-hour cacheDuration", async () => {
  const h = harness({ stdin: req("123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/test") });
  assert.equal(await h.go(), 0);
  assert.equal(h.out.length, 1);
  const v = kubeletAccepts({ stdout: h.out[0]!, exitCode: 0, configuredApiVersion: "credentialprovider.kubelet.k8s.io/v1" });
  assert.ok(v.accepted);
  assert.equal(v.response.cacheDuration, "6h0m0s");
  assert.deepEqual(v.response.auth, { "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn": { username: "AWS", password: PASSWORD } });
  assert.deepEqual(h.fetched, [{ region: "cn-northwest-1", source: "default-chain" }]);
  assert.deepEqual(h.err, []);
});

test("a non-ECR image never builds the AWS side", async () => {
  const h = harness({ stdin: req("registry.k8s.io/pause") });
  assert.equal(await h.go(), 2);
  assert.equal(h.fetcherBuilt(), 0);
  assert.deepEqual(h.out, []);
  assert.equal(h.err.length, 1);
  assert.match(h.err[0]!, /^ecr-credential-provider: not_ecr: /);
});

const failures: [string, () => Promise<FetchedToken>, number, string][] = [
  [
    "an upstream failure",
    async () => {
      throw new UpstreamError("upstream_5xx", `ECR failed for ${PASSWORD}`);
    },
    5,
    "upstream_5xx",
  ],
  [
    "a credentials failure",
    async () => {
      throw new CredentialsError("access_denied", "denied");
    },
    4,
    "access_denied",
  ],
  [
    "an unexpected bug",
    async () => {
      throw new TypeError("x is not a function");
    },
    1,
    "internal",
  ],
  ["a token that is not base64", async () => ({ authorizationToken: "%%", endpoint: "e" }), 5, "bad_token"],
];
for (const [what, fail, exit, code] of failures) {
  test(`${what} exits ${exit} with one ${code} line and nothing on stdout`, async () => {
    const h = harness({ stdin: req("123456789012.dkr.ecr.us-east-1.amazonaws.com/a"), fetch: fail });
    assert.equal(await h.go(), exit);
    assert.deepEqual(h.out, []);
    assert.equal(h.err.length, 1);
    assert.match(h.err[0]!, new RegExp(`^ecr-credential-provider: ${code}: `));
  });
}

test("a service-account token is registered as a secret before anything can log it", async () => {
  const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
  const h = harness({
    argv: ["--log-level=debug"],
    stdin: req("123456789012.dkr.ecr.us-east-1.amazonaws.com/a", { serviceAccountToken: token }),
    fetch: async () => {
      throw new UpstreamError("upstream", `echo ${token}`);
    },
  });
  assert.equal(await h.go(), 5);
  assert.ok(!h.err.join("").includes(token));
});

test("the deadline ends a fetch that never returns, with exit 5", async () => {
  const h = harness({ argv: ["--timeout=1s"], stdin: req("123456789012.dkr.ecr.us-east-1.amazonaws.com/a"), fetch: () => new Promise(() => undefined) });
  const started = Date.now();
  assert.equal(await h.go(), 5);
  assert.ok(Date.now() - started < 3000);
  assert.match(h.err[0]!, /^ecr-credential-provider: timeout: /);
});

test("check prints the summary to stdout without the password", async () => {
  const h = harness({ argv: ["check", "public.ecr.aws/docker/library/nginx"] });
  assert.equal(await h.go(), 0);
  const text = h.out.join("");
  assert.match(text, /kind\s+ECR Public/);
  assert.match(text, /region\s+us-east-1/);
  assert.ok(!text.includes(PASSWORD));
});

test("stdin over 1 MiB is refused while reading, before it is all buffered", async () => {
  const { readRequestBytes } = await import("../../src/plugin/request.ts");
  let produced = 0;
  async function* endless() {
    for (;;) {
      produced += 256 * 1024;
      yield Buffer.alloc(256 * 1024, 0x20);
    }
  }
  await assert.rejects(readRequestBytes(endless(), new AbortController().signal), (e: unknown) => (e as { code?: string }).code === "request_too_large");
  assert.ok(produced <= 2 * 1024 * 1024, `read ${produced} bytes`);
});
