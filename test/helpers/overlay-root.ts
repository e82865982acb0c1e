// A scratch node made from this machine: an overlay of / whose writes land in <dir>/upper, entered
// with chroot in a private mount namespace (with /dev and /proc). A script run there installs into
// "/" as on a real node, with real curl, tar and sh, and leaves the host untouched; <dir>/upper is
// then exactly what it changed. Seed files (unit files, uploads) go into <dir>/upper before a run.
// Needs root and overlayfs (the test skips otherwise).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface OverlayRoot {
  dir: string;
  /** Where writes land; a node path p is at join(upper, p). */
  upper: string;
  /** Async, so a server in this process (the loopback release) can answer while the script runs. */
  run(script: string, env?: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }>;
  remove(): void;
}

const ENTER = `set -e
s=$1; shift
mount -t overlay overlay -o "lowerdir=/,upperdir=$s/upper,workdir=$s/work" "$s/merged"
mount --rbind /dev "$s/merged/dev"
mount -t proc proc "$s/merged/proc"
exec chroot "$s/merged" "$@"`;

export function overlayRoot(parent: string, label: string): OverlayRoot {
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, `${label}-`));
  for (const d of ["upper", "work", "merged"]) mkdirSync(join(dir, d));
  return {
    dir,
    upper: join(dir, "upper"),
    run(script, env = {}) {
      const vars = Object.entries({ PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", ...env }).map(([k, v]) => `${k}=${v}`);
      return new Promise((resolve) => {
        const p = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", ENTER, "sh", dir, "/usr/bin/env", "-i", ...vars, "sh", "-c", script], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.stderr.on("data", (d) => (stderr += d));
        p.on("error", (e) => resolve({ status: null, stdout, stderr: `${stderr}${e}` }));
        p.on("close", (status) => resolve({ status, stdout, stderr }));
      });
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Why an overlay root cannot be made here, or false. */
export async function overlaySkip(parent: string): Promise<string | false> {
  if (process.getuid?.() !== 0) return "needs root (overlayfs, chroot)";
  try {
    const o = overlayRoot(parent, "probe");
    const r = await o.run("true");
    o.remove();
    return r.status === 0 ? false : `cannot mount an overlay of /: ${r.stderr.trim()}`;
  } catch (e) {
    return `cannot make an overlay root: ${(e as Error).message}`;
  }
}
