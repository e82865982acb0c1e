// A real pipe for stdio tests (a FIFO in a temporary directory, removed at exit): Node's own "pipe" is a
// socket pair, where the kubelet (Go's os/exec) gives its plugin pipes. Linux only (mkfifo).

import { spawnSync } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./temp-dir.ts";

export interface Fifo {
  /** The read end: blocking, unless readNonBlocking (then O_NONBLOCK is on its description). */
  read: number;
  write: number;
  /** Close whichever ends are still open here. */
  close(): void;
}

export function fifo(opts: { readNonBlocking?: boolean } = {}): Fifo {
  const path = join(tempDir("fifo-"), "p");
  if (spawnSync("mkfifo", [path]).status !== 0) throw new Error("mkfifo failed");
  // A non-blocking reader first (so the writer's open returns), then the writer, then the blocking reader.
  const probe = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const write = openSync(path, constants.O_WRONLY);
  const read = opts.readNonBlocking ? probe : openSync(path, constants.O_RDONLY);
  if (read !== probe) closeSync(probe);
  let open = [read, write];
  return {
    read,
    write,
    close: () => {
      for (const fd of open) closeSync(fd);
      open = [];
    },
  };
}
