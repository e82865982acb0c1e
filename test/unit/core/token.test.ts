import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeAuthorizationToken } from "../../../src/core/token.ts";
import { cacheDuration, formatGoDuration } from "../../../src/core/cache-duration.ts";
import { UpstreamError } from "../../../src/core/errors.ts";
import { isGoDuration } from "../../helpers/kubelet-accept.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

test("a token splits at the first colon, so a password may contain colons", () => {
  assert.deepEqual(decodeAuthorizationToken(b64("AWS:pa:ss:word")), { username: "AWS", password: "pa:ss:word" });
});

for (const [what, token] of [
  ["not base64", "%%%"],
  ["without a colon", b64("AWSpassword")],
  ["with an empty user", b64(":password")],
  ["with an empty password", b64("AWS:")],
  ["empty", ""],
] as const) {
  test(`a token ${what} is an upstream error that does not quote it`, () => {
    assert.throws(
      () => decodeAuthorizationToken(token),
      (e: unknown) => e instanceof UpstreamError && e.code === "bad_token" && (token.length < 4 || !e.message.includes(token)),
    );
  });
}

const now = new Date("2026-01-01T00:00:00Z");
const cases: [string, Date | undefined, string][] = [
  ["a 12-hour token gets six hours", new Date(now.getTime() + 12 * 3600_000), "6h0m0s"],
  ["a token with 90 seconds left gets 45", new Date(now.getTime() + 90_000), "45s"],
  ["a token without expiry is not cached", undefined, "0s"],
  ["an expired token is not cached", new Date(now.getTime() - 1000), "0s"],
  ["a token expiring now is not cached", now, "0s"],
  ["sub-second remainders round down", new Date(now.getTime() + 10_999), "5s"],
];
for (const [what, exp, want] of cases) {
  test(`cacheDuration: ${what}`, () => {
    const got = cacheDuration(exp, now);
    assert.equal(got, want);
    assert.ok(isGoDuration(got));
  });
}

test("formatGoDuration writes what Go's Duration.String writes", () => {
  assert.equal(formatGoDuration(0), "0s");
  assert.equal(formatGoDuration(59), "59s");
  assert.equal(formatGoDuration(600), "10m0s");
  assert.equal(formatGoDuration(21599), "5h59m59s");
  assert.equal(formatGoDuration(-5), "0s");
});
