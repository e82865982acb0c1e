// Hostile input, upstream faults, broken cache storage and secret canaries, all through the built executable.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeAws, fakeAwsEnv, type EcrMode, type FakeAws } from "../helpers/fake-aws.ts";
import { runBinary, request, type RunResult } from "../helpers/run-binary.ts";
import { kubeletAccepts } from "../helpers/kubelet-accept.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const IMAGE = "123456789012.dkr.ecr.us-west-2.amazonaws.com/app";

let fake: FakeAws;
before(async () => {
  fake = await startFakeAws();
});
const scratch: string[] = [];
after(async () => {
  await fake.close();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

const scratchDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(d);
  return d;
};
const noCache = (extra: Record<string, string> = {}) => fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", ...extra });

function assertRefused(r: RunResult, exit: number) {
  assert.equal(r.code, exit, r.stderr);
  assert.equal(r.stdout, "", "nothing on stdout");
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, `one stderr line: ${r.stderr}`);
  assert.match(r.stderr, /^ecr-credential-provider: [a-z_0-9]+: /);
}

describe("hostile input through the executable", () => {
  const req = (image: unknown) => JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image });
  const cases: [string, string | Buffer][] = [
    ["random bytes", Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919) % 256))],
    ["deeply nested JSON", "[".repeat(100_000) + "]".repeat(100_000)],
    ["an image of the wrong type", req(["123456789012.dkr.ecr.us-west-2.amazonaws.com"])],
    ["duplicate image keys ending on a foreign host", `{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"${IMAGE}","image":"evil.example/x"}`],
    ["a BOM before the JSON", "\ufeff" + req(IMAGE)],
    ["a NUL byte in the host", req("123456789012.dkr.ecr.us-west-2.amazonaws.com\u0000.evil/x")],
    ["a Cyrillic look-alike host", req("123456789012.dkr.ecr.us-west-2.аmazonaws.com/x")],
    ["a punycode host", req("123456789012.dkr.ecr.us-west-2.xn--amazonaws-9ob.com/x")],
    ["userinfo in front of a foreign host", req("123456789012.dkr.ecr.us-west-2.amazonaws.com@evil.example/x")],
    ["an IPv6 literal", req("[::1]:5000/x")],
    ["a trailing dot", req("123456789012.dkr.ecr.us-west-2.amazonaws.com./x")],
    ["port 0", req("123456789012.dkr.ecr.us-west-2.amazonaws.com:0/x")],
    ["port 65536", req("123456789012.dkr.ecr.us-west-2.amazonaws.com:65536/x")],
    ["a suffix attack", req("123456789012.dkr.ecr.us-west-2.amazonaws.com.evil.example/x")],
  ];
  for (const [what, stdin] of cases) {
    test(`${what}: exit 2, nothing on stdout, one stderr line, no AWS call`, async () => {
      const before = fake.calls.length;
      const r = await runBinary({ env: noCache(), stdin });
      assertRefused(r, 2);
      assert.equal(fake.calls.length, before);
    });
  }

  test("64 MiB on stdin is refused early: exit 2 without reading it all", async () => {
    const r = await runBinary({ env: noCache(), stdin: Buffer.alloc(64 * 1024 * 1024, 0x20) });
    assertRefused(r, 2);
    assert.match(r.stderr, /request_too_large/);
  });
});

describe("upstream faults", () => {
  const faults: [string, EcrMode, number, string][] = [
    ["a connection reset", { kind: "reset" }, 5, "network"],
    ["malformed JSON", { kind: "malformed" }, 5, "bad_response"],
    ["missing authorizationData", { kind: "no-data" }, 5, "no_authorization_data"],
    ["a token that is not base64", { kind: "bad-base64" }, 5, "bad_token"],
    ["a token without a colon", { kind: "no-colon" }, 5, "bad_token"],
    ["an expiresAt in the past", { kind: "expired" }, 5, "expired_token"],
    ["AccessDenied", { kind: "error", status: 400, type: "AccessDeniedException", message: "denied" }, 4, "access_denied"],
    ["throttling that outlasts the deadline", { kind: "error", status: 400, type: "ThrottlingException", message: "Rate exceeded" }, 5, "throttled"],
  ];
  // Throttling is retried until the deadline (55 s by default): keep these runs short.
  const short = { ECR_CREDENTIAL_PROVIDER_TIMEOUT: "3s" };
  for (const [what, mode, exit, code] of faults) {
    test(`${what}: exit ${exit} (${code}) with nothing on stdout`, async () => {
      fake.setEcrMode(mode);
      try {
        const r = await runBinary({ env: noCache(short), stdin: request(IMAGE) });
        assertRefused(r, exit);
        assert.match(r.stderr, new RegExp(`^ecr-credential-provider: ${code}: `));
      } finally {
        fake.setEcrMode({ kind: "ok" });
      }
    });

    test(`${what}: with a valid cached token the run still succeeds`, async () => {
      const dir = join(scratchDir("fault-"), "c");
      const env = fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: dir, ...short });
      assert.equal((await runBinary({ env, stdin: request(IMAGE) })).code, 0);
      for (const f of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
        const e = JSON.parse(readFileSync(join(dir, f), "utf8"));
        e.fetchedAt = new Date(Date.now() - 9 * 3600_000).toISOString();
        e.expiresAt = new Date(Date.now() + 3 * 3600_000).toISOString();
        writeFileSync(join(dir, f), JSON.stringify(e));
      }
      fake.setEcrMode(mode);
      try {
        const r = await runBinary({ env, stdin: request(IMAGE) });
        assert.ok(kubeletAccepts({ stdout: r.stdout, exitCode: r.code ?? -1, configuredApiVersion: V1 }).accepted, r.stderr);
        assert.match(r.stderr, /using the cached token/);
      } finally {
        fake.setEcrMode({ kind: "ok" });
      }
    });
  }

  test("a token without expiry is answered but never cached (cacheDuration 0s)", async () => {
    fake.setEcrMode({ kind: "no-expiry" });
    try {
      const dir = join(scratchDir("noexp-"), "c");
      const r = await runBinary({ env: fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: dir }), stdin: request(IMAGE) });
      const v = kubeletAccepts({ stdout: r.stdout, exitCode: r.code ?? -1, configuredApiVersion: V1 });
      assert.ok(v.accepted);
      assert.equal(v.response.cacheDuration, "0s");
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.endsWith(".json")),
        [],
      );
    } finally {
      fake.setEcrMode({ kind: "ok" });
    }
  });

  test("a node clock an hour off: the signature is refused and the message says to check NTP", async () => {
    const skewed = await startFakeAws({ now: () => new Date(Date.now() + 3600_000), maxSkewMs: 5 * 60_000 });
    try {
      const r = await runBinary({ env: fakeAwsEnv(skewed, { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1" }), stdin: request(IMAGE) });
      assertRefused(r, 4);
      assert.match(r.stderr, /clock|NTP/);
    } finally {
      await skewed.close();
    }
  });
});

/** Mount a small tmpfs (root only); undefined when this machine cannot. */
function tmpfs(sizeKiB: number, readOnly = false): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "tmpfs-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k`, "tmpfs", dir]);
  if (r.status !== 0) return undefined;
  mkdirSync(join(dir, "cache"), { mode: 0o700 });
  if (readOnly && spawnSync("mount", ["-o", "remount,ro", dir]).status !== 0) return undefined;
  after(() => void spawnSync("umount", ["-l", dir]));
  return dir;
}

describe("cache storage faults", () => {
  test("a full disk on cache write: the run answers and warns once", async (t) => {
    const dir = tmpfs(16);
    if (!dir) return t.skip("needs root and tmpfs to fill a disk");
    spawnSync("dd", ["if=/dev/zero", `of=${join(dir, "filler")}`, "bs=1k", "count=64"]);
    const r = await runBinary({ env: fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: join(dir, "cache") }), stdin: request(IMAGE) });
    assert.ok(kubeletAccepts({ stdout: r.stdout, exitCode: r.code ?? -1, configuredApiVersion: V1 }).accepted, r.stderr);
    assert.equal(r.stderr.split("\n").filter((l) => /could not write the token cache \(ENOSPC\)/.test(l)).length, 1, r.stderr);
  });

  test("a read-only cache directory: the run answers and says once that the cache is disabled", async (t) => {
    const dir = tmpfs(64, true);
    if (!dir) return t.skip("needs root and tmpfs for a read-only mount");
    const r = await runBinary({ env: fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: join(dir, "cache") }), stdin: request(IMAGE) });
    assert.ok(kubeletAccepts({ stdout: r.stdout, exitCode: r.code ?? -1, configuredApiVersion: V1 }).accepted, r.stderr);
    assert.equal(r.stderr.split("\n").filter((l) => /token cache disabled.*EROFS/.test(l)).length, 1, r.stderr);
  });
});
