// stdio through file descriptors (src/cli/stdio.ts with src/plugin/request.ts readRequestBytes): a real
// pipe (a FIFO in a temporary directory) for EOF, chunks, the size limit and the deadline while a read
// blocks; injected fs functions for what this machine cannot produce (Windows' EOF error, EAGAIN, EPIPE).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { Readable, Writable } from "node:stream";
import { fdStdin, fdWriter, stdinIsTerminal, type StdioFs } from "../../../src/cli/stdio.ts";
import { readRequestBytes, type ByteSource, type FdByteSource } from "../../../src/plugin/request.ts";
import { MAX_REQUEST_BYTES } from "../../../src/core/protocol.ts";
import { fifo } from "../../helpers/fifo.ts";

const linux = process.platform === "linux";
const never = () => new AbortController().signal;
const noStream = (): never => assert.fail("the stream fallback was used");
const asFd = (s: ByteSource): FdByteSource => {
  assert.equal((s as FdByteSource).kind, "fd", "a descriptor source, not the stream");
  return s as FdByteSource;
};

const writeAsync = (fd: number, b: Buffer) => new Promise<void>((res, rej) => fs.write(fd, b, (e) => (e ? rej(e) : res())));

/** fs with `read` replaced by a script of results. */
function scriptedRead(results: ({ data: string } | { code: string } | "eof")[]): StdioFs {
  return {
    ...fs,
    read: (_fd, buffer, _o, _l, _p, cb) => {
      const r = results.shift() ?? "eof";
      setImmediate(() => {
        if (r === "eof") return cb(null, 0);
        if ("code" in r) return cb(Object.assign(new Error(`${r.code}: scripted`), { code: r.code }), 0);
        cb(null, buffer.write(r.data));
      });
    },
    fstatSync: () => stat("file"),
  };
}

/** What fstat says of a descriptor of this kind (rdev 5 for a character device). */
const stat = (kind: "fifo" | "socket" | "chr" | "file" | "windows-pipe") => ({
  isFile: () => kind === "file",
  isCharacterDevice: () => kind === "chr",
  isFIFO: () => kind === "fifo",
  isSocket: () => kind === "socket",
  rdev: kind === "chr" ? 5 : 0,
});

describe("stdin through a file descriptor, on a real pipe", { skip: !linux && "Linux only (mkfifo, /proc)", timeout: 20_000 }, () => {
  test("chunks written over time are read until EOF (a 0-byte read)", async () => {
    const p = fifo();
    try {
      const got = readRequestBytes(asFd(fdStdin({ stream: noStream, fd: p.read })), never());
      await writeAsync(p.write, Buffer.from('{"kind":'));
      await new Promise((r) => setTimeout(r, 50));
      await writeAsync(p.write, Buffer.from('"x"}'));
      fs.closeSync(p.write);
      assert.equal((await got).toString(), '{"kind":"x"}');
    } finally {
      fs.closeSync(p.read);
    }
  });

  test("more than MAX_REQUEST_BYTES is refused before EOF, and no read is started after that", async () => {
    const p = fifo();
    let reads = 0;
    const counting: StdioFs = { ...fs, read: (...a) => (reads++, fs.read(...a)) };
    try {
      const got = readRequestBytes(asFd(fdStdin({ stream: noStream, fd: p.read, fs: counting })), never());
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      // The writer stays open (the refusal must not wait for EOF) and may stay blocked on a full pipe
      // once the reader stops: it runs on its own, and ends (EPIPE) when the read end is closed.
      void (async () => {
        for (let sent = 0; sent <= MAX_REQUEST_BYTES; sent += chunk.length) await writeAsync(p.write, chunk);
      })().catch(() => undefined);
      await assert.rejects(got, { code: "request_too_large" });
      const after = reads;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(reads, after, "no read after the refusal");
    } finally {
      p.close();
    }
  });

  test("the deadline ends a read that blocks (writer open, nothing written), and wake() makes that read return", async () => {
    const p = fifo();
    let pending = 0;
    const watched: StdioFs = {
      ...fs,
      read: (fd, b, o, l, pos, cb) => {
        pending++;
        fs.read(fd, b, o, l, pos, (e, n) => (pending--, cb(e, n)));
      },
    };
    try {
      const started = Date.now();
      await assert.rejects(readRequestBytes(asFd(fdStdin({ stream: noStream, fd: p.read, fs: watched, platform: "linux" })), AbortSignal.timeout(200)), {
        code: "stdin_timeout",
      });
      assert.ok(Date.now() - started < 5_000);
      // A read still blocked in the thread pool would keep process.exit from returning.
      for (let i = 0; i < 100 && pending > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(pending, 0, "the blocked read was woken");
    } finally {
      p.close();
    }
  });
});

describe("stdin through a file descriptor, simulated", () => {
  test("Windows: a closed pipe reads as the error EOF (ERROR_BROKEN_PIPE), which is end of input", async () => {
    const src = fdStdin({ stream: noStream, fs: scriptedRead([{ data: "ab" }, { data: "cd" }, { code: "EOF" }]) });
    assert.equal((await readRequestBytes(src, never())).toString(), "abcd");
  });

  test("EAGAIN (a non-blocking descriptor) reads the rest from the stream, after what was read", async () => {
    const src = fdStdin({ stream: () => Readable.from([Buffer.from("cd"), Buffer.from("ef")]), fs: scriptedRead([{ data: "ab" }, { code: "EAGAIN" }]) });
    assert.equal((await readRequestBytes(src, never())).toString(), "abcdef");
  });

  test("other read errors (EISDIR, EBADF) are stdin_error with the system's message", async () => {
    for (const code of ["EISDIR", "EBADF"]) {
      const src = fdStdin({ stream: noStream, fs: scriptedRead([{ code }]) });
      await assert.rejects(readRequestBytes(src, never()), (e: Error & { code: string }) => e.code === "stdin_error" && e.message.includes(code));
    }
  });

  test("a socket, or a descriptor fstat cannot describe, is read through the stream", () => {
    const stream = Readable.from([]);
    const socket: StdioFs = { ...fs, fstatSync: () => stat("socket") };
    const broken: StdioFs = {
      ...fs,
      fstatSync: () => {
        throw Object.assign(new Error("EBADF"), { code: "EBADF" });
      },
    };
    assert.equal(fdStdin({ stream: () => stream, fs: socket }), stream);
    assert.equal(fdStdin({ stream: () => stream, fs: broken }), stream);
  });

  test("a pipe is read through the stream where a blocked read could not be woken: Windows, or no writable /proc/self/fd/0", () => {
    const stream = Readable.from([]);
    const fifoFs = (accessible: boolean): StdioFs => ({
      ...fs,
      fstatSync: () => stat("fifo"),
      accessSync: () => {
        if (!accessible) throw Object.assign(new Error("EACCES"), { code: "EACCES" });
      },
    });
    assert.equal(fdStdin({ stream: () => stream, fs: fifoFs(true), platform: "win32" }), stream);
    // A pipe as fstat describes it on Windows (seen under wine): mode S_IFIFO, yet none of the predicates.
    assert.equal(fdStdin({ stream: () => stream, fs: { ...fifoFs(true), fstatSync: () => stat("windows-pipe") }, platform: "win32" }), stream);
    assert.equal(fdStdin({ stream: () => stream, fs: fifoFs(false), platform: "linux" }), stream);
    assert.equal(asFd(fdStdin({ stream: noStream, fs: fifoFs(true), platform: "linux" })).kind, "fd");
    // A file never waits for a writer: the descriptor, on Windows too.
    asFd(fdStdin({ stream: noStream, fs: { ...fifoFs(false), fstatSync: () => stat("file") }, platform: "win32" }));
  });

  test("wake() never opens a file on stdin for writing (only a pipe is woken)", () => {
    const opened: string[] = [];
    const fileFs: StdioFs = { ...fs, fstatSync: () => stat("file"), openSync: (p) => (opened.push(p), assert.fail("opened " + p)) };
    asFd(fdStdin({ stream: noStream, fs: fileFs, platform: "linux" })).wake!();
    assert.deepEqual(opened, []);
  });

  test("a terminal is asked of tty only for a character device other than /dev/null", async () => {
    let devNullAsked = 0;
    const as = (kind: "fifo" | "chr", devNullRdev: number) => ({
      fstatSync: () => stat(kind),
      statSync: (p: string) => (assert.equal(p, "/dev/null"), devNullAsked++, { rdev: devNullRdev }),
    });
    assert.equal(await stdinIsTerminal(as("fifo", 5)), false);
    assert.equal(devNullAsked, 0, "a pipe needs no more than fstat");
    assert.equal(await stdinIsTerminal(as("chr", 5)), false, "/dev/null");
    assert.equal(devNullAsked, 1);
    // Another character device: tty decides (here on a descriptor of /dev/null, so: not a terminal).
    const devNull = fs.openSync("/dev/null", "r");
    try {
      assert.equal(await stdinIsTerminal(as("chr", 6), devNull), false);
      assert.equal(await stdinIsTerminal(fs, devNull), false);
    } finally {
      fs.closeSync(devNull);
    }
  });
});

/** A Writable that records what it got and calls back when told to. */
function sink(): { stream: Writable; got: string[]; release: () => void } {
  const got: string[] = [];
  const held: (() => void)[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      got.push(chunk.toString());
      held.push(cb);
    },
  });
  return { stream, got, release: () => held.splice(0).forEach((cb) => cb()) };
}

describe("stdout and stderr through a file descriptor", () => {
  test("partial writes are continued until all is written, in order", () => {
    const out: Buffer[] = [];
    const w = fdWriter(1, noStream, {
      writeSync: (_fd, b, off, len) => {
        const n = Math.min(3, len);
        out.push(Buffer.from(b.subarray(off, off + n)));
        return n;
      },
    });
    w.write('{"kind":"CredentialProviderResponse"}\n');
    w.write("é\n");
    assert.equal(Buffer.concat(out).toString(), '{"kind":"CredentialProviderResponse"}\né\n');
    let drained = false;
    w.drained(() => (drained = true));
    assert.ok(drained, "nothing handed to a stream: drained at once");
  });

  test("EAGAIN hands the rest and every later write to the stream; drained waits for it", async () => {
    const s = sink();
    let calls = 0;
    const w = fdWriter(1, () => s.stream, {
      writeSync: (_fd, _b, _off, len) => {
        if (calls++ === 0) return Math.min(2, len);
        throw Object.assign(new Error("EAGAIN"), { code: "EAGAIN" });
      },
    });
    w.write("abcdef");
    w.write("gh");
    assert.equal(calls, 2, "no descriptor write after the fallback");
    let drained = false;
    w.drained(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false, "waits for the stream");
    for (let i = 0; i < 10 && !drained; i++) {
      s.release();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(s.got.join(""), "cdefgh");
    assert.equal(drained, true);
  });

  test("EPIPE marks the writer broken and drops this and later writes", () => {
    let calls = 0;
    const w = fdWriter(1, noStream, {
      writeSync: () => {
        calls++;
        throw Object.assign(new Error("EPIPE"), { code: "EPIPE" });
      },
    });
    assert.equal(w.broken, false);
    w.write("x");
    w.write("y");
    assert.equal(w.broken, true);
    assert.equal(calls, 1);
  });

  test("a real pipe gets the bytes", { skip: !linux && "Linux only (mkfifo)" }, () => {
    const p = fifo();
    try {
      fdWriter(p.write, noStream).write("hello\n");
      const b = Buffer.alloc(16);
      assert.equal(b.subarray(0, fs.readSync(p.read, b)).toString(), "hello\n");
    } finally {
      p.close();
    }
  });
});
