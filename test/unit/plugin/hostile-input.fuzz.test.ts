// Property tests over the request decoder, the image classifier and the CLI. `npm test` runs a fixed count; `npm run fuzz` a large one.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeRequest } from "../../../src/core/protocol.ts";
import { classifyImage, parseAliases } from "../../../src/core/registry.ts";
import { readConfig } from "../../../src/core/config.ts";
import { run } from "../../../src/plugin/run.ts";
import { InputError, PluginError } from "../../../src/core/errors.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const V1 = "credentialprovider.kubelet.k8s.io/v1";

/** Host-like strings built from the pieces attackers use: look-alikes, punycode, userinfo, suffix tricks, odd ports. */
const hostile = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.constantFrom(
    "123456789012.dkr.ecr.us-east-1.amazonaws.com@evil.example",
    "evil.example@123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com.",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com:0",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com:65536",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com:-1",
    "[::1]:443",
    "[2001:db8::1]",
    "123456789012.dkr.ecr.us-east-1.аmazonaws.com", // Cyrillic а
    "123456789012.dkr.ecr.us-east-1.xn--amazonaws-9ob.com",
    "xn--public-ecr-aws.example",
    "public.ecr.aws.evil.example",
    "public.ecr.aws\u0000.evil",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com\u0000",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com%2fevil",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com\\evil.example",
    "\ufeff123456789012.dkr.ecr.us-east-1.amazonaws.com",
    " 123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com#x",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com?x",
  ),
  fc.tuple(fc.constantFrom("123456789012.dkr.ecr.us-east-1.amazonaws.com", "public.ecr.aws"), fc.string({ maxLength: 20 })).map(([a, b]) => a + b),
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom("123456789012.dkr.ecr.us-east-1.amazonaws.com", "public.ecr.aws")).map(([a, b]) => a + b),
);

const AWS_SUFFIXES =
  /(^|\.)(amazonaws\.com|amazonaws\.com\.cn|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov|public\.ecr\.aws|ecr-public\.aws\.com)$/;

test("property: the classifier answers only for AWS-owned hosts, and fails only with InputError", () => {
  fc.assert(
    fc.property(hostile, fc.string({ maxLength: 30 }), (host, path) => {
      let got;
      try {
        got = classifyImage(`${host}/${path}`);
      } catch (e) {
        assert.ok(e instanceof InputError, String(e));
        assert.ok(!e.message.includes("\n"));
        assert.ok(e.message.length < 500);
        return;
      }
      const h = got.authKey.replace(/:\d+$/, "").toLowerCase();
      assert.match(h, AWS_SUFFIXES);
      assert.match(got.authKey, /^[A-Za-z0-9.-]+(:\d{1,5})?$/);
    }),
    { numRuns: RUNS },
  );
});

const jsonish = fc.oneof(
  fc.string(),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
  fc.json(),
  fc
    .record({
      kind: fc.oneof(fc.constant("CredentialProviderRequest"), fc.string()),
      apiVersion: fc.oneof(fc.constant(V1), fc.string(), fc.integer()),
      image: fc.oneof(hostile, fc.integer(), fc.constant(null)),
    })
    .map((o) => JSON.stringify(o)),
  fc.anything().map((v) => {
    try {
      return JSON.stringify(v) ?? "";
    } catch {
      return "";
    }
  }),
);

test("property: the decoder returns a request or throws InputError, never anything else", () => {
  fc.assert(
    fc.property(jsonish, (text) => {
      try {
        const r = decodeRequest(text);
        assert.equal(typeof r.image, "string");
      } catch (e) {
        assert.ok(e instanceof InputError, String(e));
      }
    }),
    { numRuns: RUNS },
  );
});

test("deeply nested JSON, duplicate keys, a BOM and NUL bytes are handled without a crash", () => {
  const deep = "[".repeat(200_000) + "]".repeat(200_000);
  assert.throws(() => decodeRequest(deep), InputError);
  assert.throws(() => decodeRequest('{"kind":' + "[".repeat(100_000)), InputError);
  // Duplicate keys: the last wins, as in Go's encoding/json; the image is still classified strictly.
  const dup = decodeRequest(`{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"public.ecr.aws/x","image":"evil.example/x"}`);
  assert.equal(dup.image, "evil.example/x");
  assert.throws(() => classifyImage(dup.image), InputError);
  assert.throws(() => decodeRequest(`\ufeff{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"x"}`), InputError);
  const nul = decodeRequest(`{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"public.ecr.aws\\u0000/x"}`);
  assert.throws(() => classifyImage(nul.image), InputError);
});

test("property: the CLI parser yields a config or a ConfigError, never anything else", () => {
  const arg = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom("--log-level", "--timeout", "--registry-alias", "--no-cache", "check", "doctor", "--", "get-credentials", "--cache-dir=", "--timeout=0"),
  );
  fc.assert(
    fc.property(
      fc.array(arg, { maxLength: 6 }),
      fc.dictionary(
        fc.constantFrom(
          "ECR_CREDENTIAL_PROVIDER_LOG_LEVEL",
          "ECR_CREDENTIAL_PROVIDER_NO_CACHE",
          "ECR_CREDENTIAL_PROVIDER_TIMEOUT",
          "ECR_CREDENTIAL_PROVIDER_REGISTRY_ALIAS",
        ),
        fc.string({ maxLength: 20 }),
      ),
      (argv, env) => {
        try {
          const c = readConfig(argv, env);
          parseAliases(c.registryAliases);
        } catch (e) {
          assert.ok(e instanceof PluginError && e.exitCode === 3, String(e));
        }
      },
    ),
    { numRuns: RUNS },
  );
});

test("property: whatever arrives on stdin, run() exits 0 or 2, prints JSON only on success, one stderr line otherwise, and calls AWS only for ECR", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        jsonish,
        hostile.map((h) => JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: h })),
      ),
      async (stdin) => {
        const out: string[] = [];
        const err: string[] = [];
        let fetched = 0;
        const code = await run(
          {
            stdin: (async function* () {
              yield Buffer.from(stdin);
            })(),
            writeStdout: (s) => out.push(s),
            writeStderr: (s) => err.push(s),
          },
          {
            argv: [],
            env: { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1" },
            now: () => new Date("2026-01-01T00:00:00Z"),
            version: "fuzz",
            readFileSync: () => Buffer.alloc(0),
            createFetcher: async () => async () => {
              fetched++;
              return { authorizationToken: Buffer.from("AWS:pw").toString("base64"), expiresAt: new Date("2026-01-01T12:00:00Z"), endpoint: "e" };
            },
          },
        );
        assert.ok(code === 0 || code === 2, `exit ${code}: ${err.join("")}`);
        if (code === 0) {
          assert.equal(out.length, 1);
          assert.equal(fetched, 1);
          JSON.parse(out[0]!);
        } else {
          assert.deepEqual(out, []);
          assert.equal(err.length, 1);
          assert.equal(err[0]!.split("\n").length, 2, "exactly one line");
          assert.equal(fetched, 0, "no AWS call for refused input");
        }
      },
    ),
    { numRuns: RUNS },
  );
});
