// One simulated machine for the real token cache (src/cache/token-cache.ts): an in-memory file system
// implementing CacheFs with the POSIX semantics the cache relies on (exclusive create fails with
// EEXIST, rename replaces atomically, open file descriptors follow the inode, directory watches
// fire on every create, write, chmod, rename and unlink in the directory), and a process table.
// Each process gets its own view (`spawn`): once it exits or is killed its calls fail, its
// descriptors are closed, its watches stop and its timers never fire, but the files it left
// (a lock, say) stay, as on a real node. Used by the fleet simulation and the cache's unit tests.

import type { CacheFs, SetTimer } from "../../src/cache/cache-io.ts";

interface Inode {
  dir: boolean;
  data: string;
  mode: number;
  mtimeMs: number;
}

/** An error as node:fs throws it (`code`, `syscall`, `path`); the message is built only if read (the simulation throws EEXIST by the million). */
class FsError extends Error {
  constructor(
    readonly code: string,
    readonly syscall: string,
    readonly path: string,
  ) {
    super();
  }
  override get message(): string {
    return `${this.code}: ${this.syscall} '${this.path}'`;
  }
}
const fsError = (code: string, syscall: string, path: string): Error => new FsError(code, syscall, path);

class Stat {
  constructor(
    readonly mtimeMs: number,
    readonly mode: number,
    private readonly dir: boolean,
  ) {}
  isDirectory(): boolean {
    return this.dir;
  }
}

/** The parent of an absolute path ("/a/b" → "/a", "/a" → "/"), as path.dirname says for the paths the cache uses. */
function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const UMASK = 0o022;

export class MemFs {
  private readonly nodes = new Map<string, Inode>([["/", { dir: true, data: "", mode: 0o755, mtimeMs: 0 }]]);
  private readonly fds = new Map<number, { inode: Inode; dir: string; pos: number; writable: boolean }>();
  private readonly watchers = new Map<string, Set<() => void>>();
  private nextFd = 3;
  private nextPid = 1000;
  private readonly running = new Set<number>();

  /** `now`: the clock file times are taken from (ms since the epoch). */
  constructor(private readonly now: () => number) {}

  /** A new process on this machine: a distinct pid, a view of the file system, timers that die with it. */
  spawn(setTimer: SetTimer): MemProcess {
    const pid = this.nextPid++;
    this.running.add(pid);
    return new MemProcess(this, pid, setTimer);
  }

  /** kill(pid, 0): whether that process is still running. */
  isAlive = (pid: number): boolean => this.running.has(pid);

  /** @internal the process table entry goes when the process does. */
  reap(pid: number): void {
    this.running.delete(pid);
  }

  /** Names in a directory (for tests: what a run left behind). */
  list(dir: string): string[] {
    const prefix = dir.endsWith("/") ? dir : dir + "/";
    return [...this.nodes.keys()].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes("/")).map((p) => p.slice(prefix.length));
  }

  private get(path: string, syscall: string): Inode {
    const n = this.nodes.get(path);
    if (!n) throw fsError("ENOENT", syscall, path);
    return n;
  }

  private parentDir(path: string, syscall: string): string {
    const parent = dirname(path);
    const p = this.nodes.get(parent);
    if (!p) throw fsError("ENOENT", syscall, path);
    if (!p.dir) throw fsError("ENOTDIR", syscall, path);
    return parent;
  }

  private changed(dir: string): void {
    const set = this.watchers.get(dir);
    if (set) for (const f of set) f();
  }

  readFileSync(path: string): string {
    const n = this.get(path, "open");
    if (n.dir) throw fsError("EISDIR", "read", path);
    return n.data;
  }

  statSync(path: string): { mtimeMs: number; mode: number; isDirectory(): boolean } {
    const n = this.get(path, "stat");
    return new Stat(n.mtimeMs, (n.dir ? S_IFDIR : S_IFREG) | n.mode, n.dir);
  }

  openSync(path: string, flags: "wx" | "r", mode = 0o666): number {
    let inode = this.nodes.get(path);
    const dir = this.parentDir(path, "open");
    if (flags === "wx") {
      if (inode) throw fsError("EEXIST", "open", path);
      inode = { dir: false, data: "", mode: mode & ~UMASK, mtimeMs: this.now() };
      this.nodes.set(path, inode);
      this.changed(dir);
    } else if (!inode) {
      throw fsError("ENOENT", "open", path);
    }
    const fd = this.nextFd++;
    this.fds.set(fd, { inode, dir, pos: 0, writable: flags === "wx" });
    return fd;
  }

  private fd(fd: number, syscall: string) {
    const f = this.fds.get(fd);
    if (!f) throw fsError("EBADF", syscall, String(fd));
    return f;
  }

  writeFileSync(fd: number, data: string): void {
    const f = this.fd(fd, "write");
    if (!f.writable || f.inode.dir) throw fsError("EBADF", "write", String(fd));
    const d = f.inode.data;
    f.inode.data = d.slice(0, f.pos) + data + d.slice(f.pos + data.length);
    f.pos += data.length;
    f.inode.mtimeMs = this.now();
    this.changed(f.dir);
  }

  fsyncSync(fd: number): void {
    this.fd(fd, "fsync");
  }

  closeSync(fd: number): void {
    this.fd(fd, "close");
    this.fds.delete(fd);
  }

  renameSync(from: string, to: string): void {
    const n = this.get(from, "rename");
    const fromDir = this.parentDir(from, "rename");
    const toDir = this.parentDir(to, "rename");
    const target = this.nodes.get(to);
    if (target && target.dir !== n.dir) throw fsError(target.dir ? "EISDIR" : "ENOTDIR", "rename", to);
    if (target?.dir && this.list(to).length > 0) throw fsError("ENOTEMPTY", "rename", to);
    if (from === to) return;
    for (const [p, child] of n.dir ? [...this.nodes] : []) {
      if (p.startsWith(from + "/")) {
        this.nodes.delete(p);
        this.nodes.set(to + p.slice(from.length), child);
      }
    }
    this.nodes.delete(from);
    this.nodes.set(to, n);
    this.changed(fromDir);
    if (toDir !== fromDir) this.changed(toDir);
  }

  unlinkSync(path: string): void {
    if (this.get(path, "unlink").dir) throw fsError("EISDIR", "unlink", path);
    this.nodes.delete(path);
    this.changed(dirname(path));
  }

  existsSync(path: string): boolean {
    return this.nodes.has(path);
  }

  mkdirSync(path: string, options: { recursive?: boolean; mode?: number } = {}): unknown {
    const existing = this.nodes.get(path);
    if (existing) {
      if (existing.dir && options.recursive) return undefined;
      throw fsError("EEXIST", "mkdir", path);
    }
    if (options.recursive && !this.nodes.has(dirname(path))) this.mkdirSync(dirname(path), options);
    const dir = this.parentDir(path, "mkdir");
    this.nodes.set(path, { dir: true, data: "", mode: (options.mode ?? 0o777) & ~UMASK, mtimeMs: this.now() });
    this.changed(dir);
    return path;
  }

  chmodSync(path: string, mode: number): void {
    this.get(path, "chmod").mode = mode & 0o7777;
    this.changed(dirname(path));
  }

  accessSync(path: string): void {
    this.get(path, "access"); // root: permissions never refuse
  }

  rmSync(path: string, options: { recursive: true; force: true }): void {
    if (!this.nodes.has(path)) {
      if (options.force) return;
      throw fsError("ENOENT", "rm", path);
    }
    for (const p of [...this.nodes.keys()]) if (p === path || p.startsWith(path + "/")) this.nodes.delete(p);
    this.changed(dirname(path));
  }

  watch(dir: string, listener: () => void): () => void {
    if (!this.get(dir, "watch").dir) throw fsError("ENOTDIR", "watch", dir);
    let set = this.watchers.get(dir);
    if (!set) this.watchers.set(dir, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** @internal a dead process's descriptors are closed by the kernel. */
  closeFds(fds: Set<number>): void {
    for (const fd of fds) this.fds.delete(fd);
  }
}

/** One process's view of a MemFs: the cache's `fs` and `setTimer` options, `pid` for its `pid`. */
export class MemProcess implements CacheFs {
  private alive = true;
  private readonly fds = new Set<number>();
  private readonly unwatch = new Set<() => void>();
  /** Timers that never fire once the process is gone. */
  readonly setTimer: SetTimer;

  constructor(
    private readonly host: MemFs,
    readonly pid: number,
    setTimer: SetTimer,
  ) {
    this.setTimer = (ms, fire) => setTimer(ms, () => this.alive && fire());
  }

  /** The process ends (exit or SIGKILL): nothing it does from now on reaches the machine. */
  exit(): void {
    if (!this.alive) return;
    this.alive = false;
    this.host.reap(this.pid);
    this.host.closeFds(this.fds);
    for (const u of this.unwatch) u();
    this.unwatch.clear();
  }

  private live(syscall: string): MemFs {
    if (!this.alive) throw fsError("ESRCH", syscall, `pid ${this.pid}`);
    return this.host;
  }

  readFileSync(path: string, _encoding: "utf8"): string {
    return this.live("open").readFileSync(path);
  }
  statSync(path: string): { mtimeMs: number; mode: number; isDirectory(): boolean } {
    return this.live("stat").statSync(path);
  }
  openSync(path: string, flags: "wx" | "r", mode?: number): number {
    const fd = this.live("open").openSync(path, flags, mode);
    this.fds.add(fd);
    return fd;
  }
  writeFileSync(fd: number, data: string): void {
    this.live("write").writeFileSync(fd, data);
  }
  fsyncSync(fd: number): void {
    this.live("fsync").fsyncSync(fd);
  }
  closeSync(fd: number): void {
    this.live("close").closeSync(fd);
    this.fds.delete(fd);
  }
  renameSync(from: string, to: string): void {
    this.live("rename").renameSync(from, to);
  }
  unlinkSync(path: string): void {
    this.live("unlink").unlinkSync(path);
  }
  existsSync(path: string): boolean {
    return this.alive && this.host.existsSync(path);
  }
  mkdirSync(path: string, options?: { recursive?: boolean; mode?: number }): unknown {
    return this.live("mkdir").mkdirSync(path, options);
  }
  chmodSync(path: string, mode: number): void {
    this.live("chmod").chmodSync(path, mode);
  }
  accessSync(path: string, _mode: number): void {
    this.live("access").accessSync(path);
  }
  rmSync(path: string, options: { recursive: true; force: true }): void {
    this.live("rm").rmSync(path, options);
  }
  watch(dir: string, _options: { persistent: false }, listener: () => void): { close(): void; on(event: "error", listener: () => void): unknown } {
    const stop = this.live("watch").watch(dir, () => this.alive && listener());
    this.unwatch.add(stop);
    const handle = {
      close: () => {
        stop();
        this.unwatch.delete(stop);
      },
      on: () => handle,
    };
    return handle;
  }
}
