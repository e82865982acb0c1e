// Command-line habits of the built executable: help and version as the Go plugin's cobra has them,
// every subcommand's --help, unknown options refused in any spelling, a terminal on stdin answered
// at once, `check` saying where its answer came from, and the README's `cache` commands.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeAws, fakeAwsEnv, type FakeAws } from "../helpers/fake-aws.ts";
import { BINARY, binaryAvailable, runBinary } from "../helpers/run-binary.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const IMAGE = "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/app";
const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

let fake: FakeAws;
before(async () => {
  fake = await startFakeAws();
});
after(async () => {
  await fake?.close();
});

const skip = !binaryAvailable() && "dist/ecr-credential-provider is not built";
const run = (args: string[], extra: Record<string, string> = {}) => runBinary({ args, env: fakeAwsEnv(fake, extra), killAfterMs: 20_000 });

/** A failure as documented: exit code, nothing on stdout, exactly one stderr line with the code. */
function assertRefused(r: { code: number | null; stdout: string; stderr: string }, exit: number, code: string) {
  assert.equal(r.code, exit, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^ecr-credential-provider: ${code}: `));
}

describe("help and version", { skip }, () => {
  for (const args of [["-h"], ["--help"], ["help"], ["get-credentials", "--help"]]) {
    test(`${args.join(" ")}: usage on stdout, exit 0, every subcommand and its options listed`, async () => {
      const r = await run(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      for (const word of [
        "check IMAGE",
        "doctor",
        "cache list",
        "cache clear",
        "--output",
        "--config",
        "--bin-dir",
        "--kubelet-flags",
        "--image",
        "--offline",
        "--cache-dir",
        "--log-format",
        "ECR_CREDENTIAL_PROVIDER_LOG_LEVEL",
      ]) {
        assert.ok(r.stdout.includes(word), `top-level help names ${word}`);
      }
    });
  }
  for (const args of [["-v"], ["--version"], ["version"]]) {
    test(`${args.join(" ")}: the version, exit 0`, async () => {
      const r = await run(args);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^ecr-credential-provider \d+\.\d+\.\d+\S*\n$/);
    });
  }
  for (const [sub, word] of [
    ["check", "check IMAGE"],
    ["doctor", "--kubelet-flags"],
    ["cache", "cache clear"],
  ] as const) {
    for (const h of ["--help", "-h"]) {
      test(`${sub} ${h}: its usage, exit 0`, async () => {
        const r = await run([sub, h]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^Usage:/);
        assert.ok(r.stdout.includes(word), r.stdout);
      });
    }
  }
});

describe("README shows the usage the executable prints", { skip }, () => {
  test("doctor's usage line is the one in `doctor --help`", async () => {
    const usage = (await run(["doctor", "--help"])).stdout.split("\n")[1]!.trim();
    assert.ok(README.includes(usage), `README lacks: ${usage}`);
  });
});

describe("unknown options are refused (exit 3), never taken for kubelet mode", { skip }, () => {
  for (const args of [["-x"], ["-verbose"], ["--bogus"], ["--bogus=1"], ["-V"], ["check", IMAGE, "-q"], ["cache", "list", "--nope"]]) {
    test(args.join(" "), async () => {
      assertRefused(await run(args), 3, "unknown_flag");
    });
  }
});

describe("a terminal on stdin", { skip: skip || (spawnSync("script", ["--version"]).status !== 0 && "util-linux script(1) missing") }, () => {
  test("says what is expected and exits 2 at once", () => {
    // script(1) gives the executable a pseudo-terminal as stdin; -e passes on its exit status.
    const r = spawnSync("script", ["-qec", BINARY, "/dev/null"], { env: fakeAwsEnv(fake), encoding: "utf8", timeout: 10_000, input: "" });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /stdin_is_terminal: .*CredentialProviderRequest.*check IMAGE/);
  });
});

describe("check says where its answer came from", { skip }, () => {
  test("AWS first, then the cache; --no-cache forces a live call", async () => {
    const cacheDir = join(tempDir("cli-check-"), "c");
    const env = { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: cacheDir };
    const first = await run(["check", IMAGE], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^answered from +AWS: GetAuthorizationToken .*, cached/m);
    assert.match(first.stdout, /^credential source +AWS SDK default chain: environment variables/m);
    const second = await run(["check", IMAGE], env);
    assert.match(second.stdout, /^answered from +token cache/m);
    const before = fake.calls.length;
    const live = await run(["check", "--no-cache", IMAGE], env);
    assert.match(live.stdout, /^answered from +AWS: GetAuthorizationToken .*cache not used/m);
    assert.equal(fake.calls.length, before + 1);
    const json = JSON.parse((await run(["check", "--output=json", IMAGE], env)).stdout);
    assert.equal(json.answeredFrom, "cache");
  });
});

describe("README: the cache commands", { skip }, () => {
  const block = README.slice(README.indexOf("Inspect and clear it"), README.indexOf("A state is `fresh`"));
  const commands = [...block.matchAll(/^ecr-credential-provider (cache [^#\n]*?)\s*(#.*)?$/gm)].map((m) => m[1]!.split(/\s+/));
  test("the README shows list, list --output=json and clear by region and registry", () => {
    assert.deepEqual(
      commands.map((c) => c.slice(0, 2).join(" ")),
      ["cache list", "cache list", "cache clear", "cache clear", "cache clear"],
    );
  });
  test("each runs against a filled cache, and none prints a password", async () => {
    const cacheDir = join(tempDir("cli-cache-"), "c");
    const env = { ECR_CREDENTIAL_PROVIDER_CACHE_DIR: cacheDir };
    for (const c of commands) {
      for (const image of [IMAGE, "public.ecr.aws/docker/library/nginx"]) assert.equal((await run(["check", image], env)).code, 0);
      const r = await run(c, env);
      assert.equal(r.code, 0, `${c.join(" ")}: ${r.stderr}`);
      for (const pw of fake.issuedPasswords) assert.ok(!r.stdout.includes(pw) && !r.stderr.includes(pw), `${c.join(" ")} printed a password`);
      if (c[1] === "list") assert.match(r.stdout, c.includes("--output=json") ? /"entries":\[\{/ : /ECR private aws-cn\/cn-northwest-1 .* fresh/);
      if (c.length === 2 && c[1] === "clear") assert.deepEqual(JSON.parse((await run(["cache", "list", "--output=json"], env)).stdout).entries, []);
    }
  });
});
