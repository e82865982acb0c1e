// Reading the kubelet's request from stdin: bounded in size and time, by events (cheap on the start-up path).

import { InputError } from "../core/errors.ts";
import { MAX_REQUEST_BYTES } from "../core/protocol.ts";

/** A byte source: an async iterable (tests) or an event-emitting stream such as process.stdin. */
export type ByteSource = AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

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
    const onAbort = () => finish(new InputError("stdin_timeout", "timed out waiting for the request on stdin (stdin was never closed)"));
    const onChunk = (chunk: Uint8Array): boolean => {
      total += chunk.length;
      if (total > MAX_REQUEST_BYTES) {
        finish(new InputError("request_too_large", `the request on stdin is larger than ${MAX_REQUEST_BYTES} bytes`));
        return false;
      }
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return true;
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    if ("on" in stdin && typeof stdin.on === "function") {
      // Plain events, not the async iterator: cheaper to load on the start-up path.
      const s = stdin as NodeJS.ReadableStream;
      s.on("data", (c: Uint8Array) => {
        if (!onChunk(c)) s.pause();
      });
      s.on("end", () => finish(undefined, Buffer.concat(chunks)));
      s.on("error", (e: Error) => finish(new InputError("stdin_error", `cannot read stdin: ${e.message}`)));
      return;
    }
    void (async () => {
      try {
        for await (const chunk of stdin as AsyncIterable<Uint8Array>) if (!onChunk(chunk)) return;
        finish(undefined, Buffer.concat(chunks));
      } catch (e) {
        finish(new InputError("stdin_error", `cannot read stdin: ${(e as Error).message}`));
      }
    })();
  });
}
