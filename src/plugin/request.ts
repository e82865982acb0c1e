// Reading the kubelet's request from stdin: bounded in size and time, by events (cheap on the start-up path).

import { InputError } from "../core/errors.ts";
import { MAX_REQUEST_BYTES } from "../core/protocol.ts";

/**
 * A file descriptor read chunk by chunk (src/cli/stdio.ts `fdStdin`): no stream, no `net`. `read`
 * calls back with the bytes read, 0 at end of input, or an error; `fallback` is where the rest of
 * the input is read from when `read` reports EAGAIN (a non-blocking descriptor); `wake` makes a
 * read that is still blocked return, so the process can exit once the deadline has passed.
 */
export interface FdByteSource {
  readonly kind: "fd";
  read(buffer: Buffer, callback: (err: NodeJS.ErrnoException | null, bytesRead: number) => void): void;
  fallback(): AsyncIterable<Uint8Array> | NodeJS.ReadableStream;
  wake?(): void;
}

/** A byte source: an async iterable (tests), an event-emitting stream such as process.stdin, or a file descriptor. */
export type ByteSource = AsyncIterable<Uint8Array> | NodeJS.ReadableStream | FdByteSource;

const READ_CHUNK = 64 * 1024;

/** Read stdin up to MAX_REQUEST_BYTES; refuse more without buffering it; give up when the deadline passes. */
export function readRequestBytes(stdin: ByteSource, signal: AbortSignal): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (err: Error | undefined, value?: Buffer) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve(value!);
    };
    const onAbort = () => {
      finish(new InputError("stdin_timeout", "timed out waiting for the request on stdin (stdin was never closed)"));
      if (isFd(stdin)) stdin.wake?.();
    };
    const onChunk = (chunk: Uint8Array): boolean => {
      if (done) return false;
      total += chunk.length;
      if (total > MAX_REQUEST_BYTES) {
        finish(new InputError("request_too_large", `the request on stdin is larger than ${MAX_REQUEST_BYTES} bytes`));
        return false;
      }
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return true;
    };
    const onEnd = () => finish(undefined, Buffer.concat(chunks));
    const onError = (e: Error) => finish(new InputError("stdin_error", `cannot read stdin: ${e.message}`));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    const read = (source: ByteSource): void => {
      if (isFd(source)) return readFd(source, onChunk, onEnd, onError, () => read(source.fallback()));
      if ("on" in source && typeof source.on === "function") {
        // Plain events, not the async iterator: cheaper to load on the start-up path.
        const s = source as NodeJS.ReadableStream;
        s.on("data", (c: Uint8Array) => {
          if (!onChunk(c)) s.pause();
        });
        s.on("end", onEnd);
        s.on("error", onError);
        return;
      }
      void (async () => {
        try {
          for await (const chunk of source as AsyncIterable<Uint8Array>) if (!onChunk(chunk)) return;
          onEnd();
        } catch (e) {
          onError(e as Error);
        }
      })();
    };
    read(stdin);
  });
}

const isFd = (s: ByteSource): s is FdByteSource => (s as Partial<FdByteSource>).kind === "fd";

/**
 * Read a descriptor until end of input: a 0-byte read, or on Windows the error EOF (libuv's name for
 * ERROR_BROKEN_PIPE, a pipe whose writer has closed). EAGAIN (a non-blocking descriptor inherited
 * from the parent) hands the rest to `fallback`; any other error is a stdin_error, as a stream's would be.
 * No read is started once `onChunk` refuses (deadline passed, or the request is too large).
 */
function readFd(source: FdByteSource, onChunk: (c: Uint8Array) => boolean, onEnd: () => void, onError: (e: Error) => void, fallback: () => void): void {
  const next = (): void => {
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    source.read(buffer, (err, n) => {
      if (err?.code === "EAGAIN" || err?.code === "EWOULDBLOCK") return fallback();
      if (err && err.code !== "EOF") return onError(err);
      if (err || n === 0) return onEnd();
      if (onChunk(buffer.subarray(0, n))) next();
    });
  };
  next();
}
