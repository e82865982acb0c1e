// The built executable's stdio as the kubelet gives it: stdin and stdout real pipes (not Node's socket
// pairs), read and written through file descriptors (src/cli/stdio.ts). EOF, the size limit, the deadline
// while a read blocks, /dev/null, an inherited non-blocking pipe, and a reader of stdout that went away.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { startFakeAws, fakeAwsEnv, type FakeAws } from "../helpers/fake-aws.ts";
import { binaryAvailable, runBinaryOnPipe, runBinaryWith, request, type RunResult } from "../helpers/run-binary.ts";
import { fifo } from "../helpers/fifo.ts";

const IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app";
const skip = (!binaryAvailable() && "no built executable") || (process.platform !== "linux" && "Linux only (mkfifo)");

let fake: FakeAws;
before(async () => {
  fake = await startFakeAws();
});
after(async () => {
  await fake.close();
});

const env = (extra: Record<string, string> = {}) => fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", ...extra });

function failed(r: RunResult, exitCode: number, code: string): void {
  assert.equal(r.code, exitCode, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, new RegExp(`^ecr-credential-provider: ${code}: [^\\n]*\\n$`));
}

/** Spawn with the given stdio; collect what is on Node's pipes. */
const spawnWith = (stdio: ("pipe" | number)[], e: Record<string, string>, args: string[] = []) => runBinaryWith(stdio, { env: e, args, killAfterMs: 20_000 });

describe("stdin on a pipe, as the kubelet gives it", { skip }, () => {
  test("a request answers with the response JSON on stdout and nothing else", async () => {
    const r = await runBinaryOnPipe({ env: env(), stdin: request(IMAGE) });
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.kind, "CredentialProviderResponse");
    assert.equal(r.stdout, JSON.stringify(res) + "\n");
  });

  test("an empty stdin is exit 2 (empty_request)", async () => {
    failed(await runBinaryOnPipe({ env: env(), stdin: "" }), 2, "empty_request");
  });

  test("64 MiB is refused at 1 MiB: exit 2 (request_too_large), without reading it all", async () => {
    failed(await runBinaryOnPipe({ env: env(), stdin: Buffer.alloc(64 * 1024 * 1024, 0x20) }), 2, "request_too_large");
  });

  test("a stdin never closed ends at the deadline with exit 2 (stdin_timeout), though a read is blocked", async () => {
    const r = await runBinaryOnPipe({ env: env({ ECR_CREDENTIAL_PROVIDER_TIMEOUT: "2s" }), holdStdin: true, killAfterMs: 20_000 });
    failed(r, 2, "stdin_timeout");
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  });

  test("/dev/null (a character device, not a terminal) is an empty request, as before", async () => {
    const devNull = openSync("/dev/null", "r");
    try {
      failed(await spawnWith([devNull, "pipe", "pipe"], env()), 2, "empty_request");
      // Told apart from a terminal by its device number: tty (and net under it) stays unloaded.
      const r = await spawnWith([devNull, "pipe", "pipe"], env({ ECR_CREDENTIAL_PROVIDER_LOG_LEVEL: "debug" }));
      assert.match(r.stderr, / debug: modules awsSdkLoaded=false builtins=(?: |\n)/);
    } finally {
      closeSync(devNull);
    }
  });

  test("a non-blocking pipe inherited from the parent (EAGAIN) is read through process.stdin", async () => {
    const { read, write } = fifo({ readNonBlocking: true });
    const run = spawnWith([read, "pipe", "pipe"], env());
    closeSync(read);
    // Nothing written yet: the first read meets EAGAIN.
    await new Promise((r) => setTimeout(r, 300));
    writeSync(write, request(IMAGE));
    closeSync(write);
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).kind, "CredentialProviderResponse");
  });
});

describe("stdout on a pipe", { skip }, () => {
  test("a reader that went away (EPIPE) is exit 1 with one stderr line, as when the stream's EPIPE was uncaught", async () => {
    const { read, write } = fifo();
    closeSync(read);
    try {
      const r = await spawnWith(["pipe", write, "pipe"], env(), ["--version"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^ecr-credential-provider: stdout_closed: [^\n]*\n$/);
    } finally {
      closeSync(write);
    }
  });

  test("with --log-format=json that line is a JSON object like every failure line", async () => {
    const { read, write } = fifo();
    closeSync(read);
    try {
      const r = await spawnWith(["pipe", write, "pipe"], env({ ECR_CREDENTIAL_PROVIDER_LOG_FORMAT: "json" }), ["--version"]);
      assert.equal(r.code, 1, r.stderr);
      const line = JSON.parse(r.stderr);
      assert.equal(line.code, "stdout_closed");
      assert.equal(line.exitCode, 1);
      assert.match(line.msg, /\(EPIPE\): the reader went away/);
    } finally {
      closeSync(write);
    }
  });

  test("a full non-blocking pipe (EAGAIN) hands the rest to process.stdout, and the exit waits until it is out", async () => {
    const { read, write } = fifo({ readNonBlocking: true });
    // O_NONBLOCK is on the read end's description; the write end the child gets must be non-blocking too.
    const path = `/proc/self/fd/${write}`;
    const nbWrite = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(write);
    const filler = Buffer.alloc(4096, 0x78);
    let filled = 0;
    try {
      for (;;) filled += writeSync(nbWrite, filler);
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, "EAGAIN");
    }
    const run = spawnWith(["pipe", nbWrite, "pipe"], env(), ["--version"]);
    closeSync(nbWrite);
    // Drain the pipe once the child is blocked on it: the filler, then the version line.
    await new Promise((r) => setTimeout(r, 500));
    const out = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const rd = spawn("cat", [], { stdio: [read, "pipe", "ignore"] });
      rd.stdout!.on("data", (d: Buffer) => chunks.push(d));
      rd.on("close", () => resolve(Buffer.concat(chunks).toString()));
    });
    closeSync(read);
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(out.length - filled > 0, true);
    assert.match(out.slice(filled), /^ecr-credential-provider \S+\n$/);
  });
});
