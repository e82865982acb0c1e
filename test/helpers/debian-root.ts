// Debian minbase roots for tests that need a real, bare distribution: made once with debootstrap
// from the mirror apt uses (cached under .cache/debootstrap/), copied per test, entered with chroot
// in a private mount namespace. Needs root, debootstrap and unshare (scripts/ci-deps.sh).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const CACHE = join(ROOT, ".cache", "debootstrap");
export const DEB_ARCH = process.arch === "arm64" ? "arm64" : "amd64";

export function sh(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    input: opts.input ?? "",
    env: opts.env ?? process.env,
    timeout: opts.timeout ?? 120_000,
    maxBuffer: 32 << 20,
  });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
}
export const have = (cmd: string) => sh("sh", ["-c", `command -v ${cmd}`]).status === 0;
/** The Debian mirror and suite apt uses on this machine (debian.sources or sources.list). */
export function aptMirror(): { mirror: string; suite: string } {
  let mirror = "http://deb.debian.org/debian";
  for (const f of ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    const m = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+\S+\s+main/m.exec(text);
    if (m) {
      mirror = m[1]!;
      break;
    }
  }
  const osr = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  const suite = /^VERSION_CODENAME=(\w+)/m.exec(osr)?.[1] ?? "bookworm";
  return { mirror, suite };
}

/** A cached Debian minbase root for `suite`; made once with debootstrap (~30 s), then reused. */
export function minbaseRoot(suite: string, mirror: string): string {
  const dir = join(CACHE, `${suite}-minbase-${DEB_ARCH}`);
  if (existsSync(join(dir, ".complete"))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  const r = sh("debootstrap", ["--variant=minbase", `--arch=${DEB_ARCH}`, suite, tmp, mirror], { timeout: 600_000 });
  if (r.status !== 0) {
    // Say why: most often the mirror is unreachable (no network, proxy, DNS) or the suite has moved to the archive.
    const probe = sh("sh", ["-c", `getent hosts ${new URL(mirror).hostname} || echo "DNS lookup failed"`]).stdout.trim();
    rmSync(tmp, { recursive: true, force: true });
    assert.fail(`debootstrap ${suite} from ${mirror} failed (exit ${r.status}).\nDNS: ${probe}\n${(r.stdout + r.stderr).split("\n").slice(-15).join("\n")}`);
  }
  writeFileSync(join(tmp, ".complete"), `${suite} ${mirror}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/**
 * A throwaway copy of `base`: hard links by default (instant; only for tests that never write a file
 * in place), or a real copy (`copy`) for tests that run dpkg or edit files.
 */
export function scratchRoot(base: string, label: string, how: "link" | "copy" = "link"): string {
  const dir = join(ROOT, ".cache", "portability", `${label}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, ".."), { recursive: true });
  const r = sh("cp", [how === "link" ? "-al" : "-a", base, dir]);
  assert.equal(r.status, 0, `cp ${base} failed: ${r.stderr}`);
  return dir;
}

/**
 * Runs the executable inside `root` with a clean environment, in a private mount namespace
 * that has /proc (the dynamic loader reads /proc/self/exe to expand $ORIGIN).
 */
export function runInChroot(root: string, exe: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  // sh, not bash: bash reads ~/.bashrc when its stdin is a socket, as node's pipes are.
  const script = 'root=$1 exe=$2; shift 2; mount -t proc proc "$root/proc" && exec chroot "$root" "$exe" "$@"';
  return sh("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", root, exe, ...args], {
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
  });
}

/** Why a chroot test cannot run here (not root, tools missing), or false. */
export function chrootSkip(): string | false {
  return (
    (process.getuid?.() !== 0 && "needs root (chroot, mount)") ||
    (!have("debootstrap") && "debootstrap missing: run `bash scripts/ci-deps.sh`") ||
    (!have("unshare") && "unshare (util-linux) missing") ||
    false
  );
}
