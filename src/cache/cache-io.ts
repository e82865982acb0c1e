// The token cache's seams: the file operations it makes and its timers. Production passes node:fs
// itself and setTimeout (nothing new is loaded); the fleet simulation (bench/fleet/sim.ts) passes an
// in-memory file system per node and its virtual clock.

/**
 * Exactly the node:fs calls the cache makes, with the arguments it makes them with; `node:fs`
 * satisfies it as it is. Errors are thrown as node:fs throws them (`code` EEXIST, ENOENT…).
 */
export interface CacheFs {
  readFileSync(path: string, encoding: "utf8"): string;
  statSync(path: string): { mtimeMs: number; mode: number; isDirectory(): boolean };
  /** "wx": exclusive create (EEXIST when the path exists); "r": open for reading (the directory, to fsync it). */
  openSync(path: string, flags: "wx" | "r", mode?: number): number;
  writeFileSync(fd: number, data: string): void;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  /** Atomic replace of `newPath`. */
  renameSync(oldPath: string, newPath: string): void;
  unlinkSync(path: string): void;
  existsSync(path: string): boolean;
  mkdirSync(path: string, options?: { recursive?: boolean; mode?: number }): unknown;
  chmodSync(path: string, mode: number): void;
  accessSync(path: string, mode: number): void;
  rmSync(path: string, options: { recursive: true; force: true }): void;
  /** Calls `listener` whenever an entry of `dir` is created, written, renamed or removed, until closed. May throw. */
  watch(dir: string, options: { persistent: false }, listener: () => void): { close(): void; on(event: "error", listener: () => void): unknown };
}

/** Calls `fire` after `ms` unless cancelled by the function it returns. */
export type SetTimer = (ms: number, fire: () => void) => () => void;

/** Production timers: setTimeout and clearTimeout. */
export const realTimer: SetTimer = (ms, fire) => {
  const t = setTimeout(fire, ms);
  return () => clearTimeout(t);
};

export function unlinkQuietly(io: CacheFs, path: string): void {
  try {
    io.unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Errors Windows gives while another process has the file open (or antivirus scans it). */
export function isSharingError(code: string | undefined): boolean {
  return code === "EPERM" || code === "EACCES" || code === "EBUSY";
}
