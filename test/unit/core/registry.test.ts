import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { classifyImage, parseAliases, registryOf } from "../../../src/core/registry.ts";
import { InputError, ConfigError } from "../../../src/core/errors.ts";

interface HostCase {
  image: string;
  expect: { kind: string; region?: string; partition?: string; authKey?: string; account?: string; fips?: boolean; dualstack?: boolean };
  note?: string;
}
const cases: HostCase[] = JSON.parse(readFileSync(new URL("../../fixtures/ecr-hosts.json", import.meta.url), "utf8"));

test("the host vectors hold more than a hundred cases, refused and accepted", () => {
  assert.ok(cases.length >= 100);
  assert.ok(cases.some((c) => c.expect.kind === "none"));
  assert.ok(cases.some((c) => c.expect.kind === "public"));
});

for (const [i, c] of cases.entries()) {
  test(`host vector ${i}: ${JSON.stringify(c.image)} is classified ${c.expect.kind}`, () => {
    if (c.expect.kind === "none") {
      assert.throws(
        () => classifyImage(c.image),
        (e: unknown) => e instanceof InputError && e.exitCode === 2,
      );
      return;
    }
    const got = classifyImage(c.image);
    assert.equal(got.kind, c.expect.kind);
    assert.equal(got.region, c.expect.region);
    assert.equal(got.partition, c.expect.partition);
    assert.equal(got.authKey, c.expect.authKey);
    assert.equal(got.fips, c.expect.fips);
    assert.equal(got.dualstack, c.expect.dualstack);
    if (c.expect.account !== undefined) assert.equal(got.account, c.expect.account);
  });
}

test("an alias answers for the mirror host with the ECR registry's region and keys the answer by the alias as spelled", () => {
  const aliases = parseAliases(["Mirror.Example.com:5000=123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn"]);
  const got = classifyImage("mirror.example.com:5000/team/app", aliases);
  assert.equal(got.authKey, "mirror.example.com:5000");
  assert.equal(got.region, "cn-northwest-1");
  assert.equal(got.partition, "aws-cn");
  assert.equal(got.aliasOf, "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn");
});

test("an alias for one port does not cover the same host on another port", () => {
  const aliases = parseAliases(["mirror.example.com:5000=123456789012.dkr.ecr.us-east-1.amazonaws.com"]);
  assert.throws(() => classifyImage("mirror.example.com/app", aliases), InputError);
  assert.throws(() => classifyImage("mirror.example.com:5001/app", aliases), InputError);
});

test("an alias whose target is not an ECR registry is a configuration error", () => {
  for (const bad of [
    "mirror=registry.example.com",
    "mirror",
    "=123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "a b=123456789012.dkr.ecr.us-east-1.amazonaws.com",
  ]) {
    assert.throws(
      () => parseAliases([bad]),
      (e: unknown) => e instanceof ConfigError && e.code === "bad_registry_alias",
      bad,
    );
  }
});

test("an alias target may be written with a scheme and a trailing slash", () => {
  const aliases = parseAliases(["pull.example=https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/"]);
  assert.equal(classifyImage("pull.example/x", aliases).region, "eu-west-1");
});

test("ports 0 and 65536 and IPv6 literals are refused", () => {
  for (const img of [
    "123456789012.dkr.ecr.us-east-1.amazonaws.com:0/x",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com:65536/x",
    "[::1]:5000/x",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com@evil.example/x",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com./x",
  ]) {
    assert.throws(() => classifyImage(img), InputError, img);
  }
});

test("registryOf keeps the port and drops a scheme and the path", () => {
  assert.equal(registryOf("https://a.b:443/c/d"), "a.b:443");
  assert.equal(registryOf("a.b"), "a.b");
});

test("property: a host accepted as ECR always ends in an AWS-owned suffix", () => {
  const suffixes = [
    "amazonaws.com",
    "amazonaws.com.cn",
    "amazonaws.eu",
    "on.aws",
    "on.amazonwebservices.com.cn",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
    "cloud.adc-e.uk",
    "csp.hci.ic.gov",
    "public.ecr.aws",
    "ecr-public.aws.com",
  ];
  const label = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
  const hostish = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc
      .tuple(fc.array(label, { minLength: 1, maxLength: 6 }), fc.constantFrom(...suffixes, "evil.example", "amazonaws.com.evil.example"))
      .map(([ls, s]) => [...ls, s].join(".")),
    fc
      .tuple(fc.stringMatching(/^\d{12}$/), fc.constantFrom("dkr.ecr", "dkr-ecr", "dkr.ecr-fips"), label, fc.constantFrom(...suffixes, "example.com"))
      .map((p) => p.join(".")),
  );
  fc.assert(
    fc.property(hostish, fc.option(fc.integer({ min: -1, max: 70000 })), (host, port) => {
      const image = port === null ? `${host}/x` : `${host}:${port}/x`;
      let got;
      try {
        got = classifyImage(image);
      } catch (e) {
        assert.ok(e instanceof InputError);
        return;
      }
      const h = got.authKey.replace(/:\d+$/, "").toLowerCase();
      assert.ok(
        suffixes.some((s) => h === s || h.endsWith("." + s)),
        h,
      );
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
  );
});
