// stdin, stdout and stderr through their file descriptors with node:fs, which every run loads anyway:
// touching process.stdin/stdout/stderr on a pipe makes Node build net.Sockets (net, stream and
// friends, about 5 ms of CPU), a third of what a cache hit costs beyond Node's own start.

import * as nodeFs from "node:fs";
import type { FdByteSource } from "../plugin/request.ts";

/** The node:fs functions used here (injected by tests to simulate Windows' EOF, EAGAIN, EPIPE). */
export interface StdioFs {
  read(fd: number, buffer: Buffer, offset: number, length: number, position: null, cb: (err: NodeJS.ErrnoException | null, n: number) => void): void;
  writeSync(fd: number, buffer: Buffer, offset: number, length: number): number;
  fstatSync(fd: number): { isFile(): boolean; isCharacterDevice(): boolean; isFIFO(): boolean; rdev: number };
  statSync(path: string): { rdev: number };
  accessSync(path: string, mode: number): void;
  openSync(path: string, flags: number): number;
  closeSync(fd: number): void;
}

/**
 * stdin as a descriptor read by async fs.read (libuv's thread pool, so the deadline timer runs while
 * a read blocks), or `stream()` (process.stdin) where a blocked read could not be ended. That matters
 * because process.exit joins the thread pool: a read still blocked there keeps the process alive past
 * its deadline, until stdin closes or the caller kills it (seen under wine; the same on Linux).
 * - A pipe (the kubelet's stdin) on Linux: read through the descriptor; one still blocked at the
 *   deadline is woken by writing a byte into it through /proc/self/fd/0, which must be writable by
 *   this user (checked first; not, e.g., when another user's pipe is passed down).
 * - A file or a character device (/dev/null; a terminal is refused before any read): the descriptor,
 *   whose reads never wait for a writer.
 * - Anything else: process.stdin, as before, which reads without blocking a thread. That is a pipe
 *   elsewhere (Windows, where fstat calls it none of FIFO, socket, file or character device, and
 *   nothing from JavaScript can end a blocked ReadFile), a socket (a Node or systemd parent; nothing
 *   wakes a blocked socket read), or a descriptor fstat cannot describe.
 * Read errors become stdin_error with the system's message (a directory on stdin: EISDIR, where
 * the stream used to see an empty request; exit 2 either way); EAGAIN (a non-blocking descriptor)
 * hands the rest to process.stdin (src/plugin/request.ts).
 */
export function fdStdin(opts: StdinOptions): FdByteSource | NodeJS.ReadableStream {
  const { stream, fs = nodeFs, platform = process.platform, fd = 0 } = opts;
  const wakePath = `/proc/self/fd/${fd}`;
  let fifo: boolean;
  try {
    const st = fs.fstatSync(fd);
    fifo = st.isFIFO();
    const neverWaits = st.isFile() || st.isCharacterDevice();
    if (!neverWaits && !(fifo && platform === "linux" && writable(fs, wakePath))) return stream();
  } catch {
    return stream();
  }
  return {
    kind: "fd",
    read: (buffer, cb) => fs.read(fd, buffer, 0, buffer.length, null, cb),
    fallback: stream,
    wake: () => {
      // Only a pipe: through /proc a file on stdin would be opened for writing.
      if (!fifo) return;
      try {
        const w = fs.openSync(wakePath, nodeFs.constants.O_WRONLY | nodeFs.constants.O_NONBLOCK);
        try {
          fs.writeSync(w, Buffer.from("\n"), 0, 1);
        } finally {
          fs.closeSync(w);
        }
      } catch {
        // The pipe went away: no read is blocked on it.
      }
    },
  };
}

function writable(fs: Pick<StdioFs, "accessSync">, path: string): boolean {
  try {
    fs.accessSync(path, nodeFs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export interface StdinOptions {
  /** process.stdin, asked for only when the descriptor cannot be used. */
  stream: () => NodeJS.ReadableStream;
  fs?: StdioFs;
  platform?: NodeJS.Platform;
  /** 0 in production; tests read a pipe of their own. */
  fd?: number;
}

/**
 * Whether stdin is a terminal, without loading tty (and net with it) unless it is a character device
 * other than /dev/null (systemd's StandardInput=null, `< /dev/null`): a terminal, or something rare.
 */
export async function stdinIsTerminal(fs: Pick<StdioFs, "fstatSync" | "statSync"> = nodeFs, fd = 0): Promise<boolean> {
  let rdev: number;
  try {
    const st = fs.fstatSync(fd);
    if (!st.isCharacterDevice()) return false;
    rdev = st.rdev;
  } catch {
    return false;
  }
  try {
    if (rdev === fs.statSync("/dev/null").rdev) return false;
  } catch {
    // No /dev/null (Windows): tty decides.
  }
  return (await import("node:tty")).isatty(fd);
}

/** A writer for fd 1 or 2: write(s) and, at exit, drained(cb) once anything handed to the stream is out. */
export interface FdWriter {
  write(s: string): void;
  /** Calls back at once unless the stream fallback was used; then once it has drained. */
  drained(cb: () => void): void;
  /** The reader of stdout went away (EPIPE): what was left unwritten is lost. */
  readonly broken: boolean;
  /** The error code that broke it (EPIPE, EBADF, …), when broken. */
  readonly brokenBy: string | undefined;
}

/**
 * Synchronous writes to `fd` in a loop (a pipe may take part of a write). EAGAIN (a non-blocking
 * pipe inherited from the parent) hands this and every later write to `stream()`, which queues and
 * polls; the exit then waits for it to drain. EPIPE (the reader is gone) or any other error drops
 * this and every later write and sets `broken`: for stdout main.ts then exits 1, as it did when the
 * stream's EPIPE was an uncaught error; for stderr the logs are lost and the run goes on.
 */
export function fdWriter(fd: number, stream: () => NodeJS.WritableStream, fs: Pick<StdioFs, "writeSync"> = nodeFs): FdWriter {
  let fallback: NodeJS.WritableStream | undefined;
  let broken = false;
  let brokenBy: string | undefined;
  return {
    get broken() {
      return broken;
    },
    get brokenBy() {
      return brokenBy;
    },
    write(s) {
      if (broken) return;
      if (fallback) return void fallback.write(s);
      const buf = Buffer.from(s, "utf8");
      for (let off = 0; off < buf.length;) {
        try {
          off += fs.writeSync(fd, buf, off, buf.length - off);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === "EAGAIN" || code === "EWOULDBLOCK") {
            fallback = stream();
            fallback.write(buf.subarray(off));
            return;
          }
          // EPIPE, or the descriptor is unusable: nobody can read the rest.
          broken = true;
          brokenBy = code ?? "error";
          return;
        }
      }
    },
    drained(cb) {
      if (fallback) fallback.write("", cb);
      else cb();
    },
  };
}
