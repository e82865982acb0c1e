// Real DoctorDeps for a Linux node: node:fs, /proc scanning for the kubelet, execFile for helpers. Built by main.ts.
import { execFile } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import type { DoctorDeps, DoctorFs } from "./types.ts";
import { expandWindowsEnv, parseRegImagePath, splitWindowsCommandLine } from "./windows.ts";

/** The real read-only file system. */
export const nodeDoctorFs: DoctorFs = {
  stat: (path) => stat(path),
  readdir: (path) => readdir(path),
  readFile: (path) => readFile(path, "utf8"),
  readBytes: (path) => readFile(path),
};

/**
 * Find the running kubelet through /proc: the first process whose argv[0] file name is `kubelet`
 * (k3s/RKE2 embed the kubelet and expose no such process: undefined).
 */
export async function readKubeletCommandLine(fs: Pick<DoctorFs, "readdir" | "readBytes"> = nodeDoctorFs, procRoot = "/proc"): Promise<string[] | undefined> {
  const pids = (await fs.readdir(procRoot).catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  for (const pid of pids) {
    let raw: Uint8Array;
    try {
      raw = await fs.readBytes(`${procRoot}/${pid}/cmdline`);
    } catch {
      continue; // the process exited meanwhile
    }
    const argv = Buffer.from(raw)
      .toString("utf8")
      .split("\0")
      .filter((a) => a !== "");
    if (argv[0] && argv[0].split("/").pop() === "kubelet") return argv;
  }
  return undefined;
}

/**
 * Windows: the kubelet service's command line, the ImagePath value that sc.exe binPath= /
 * New-Service -BinaryPathName write (EKS, image-builder's sc.exe manager, install.ps1), read
 * with reg.exe and split as CommandLineToArgvW does. nssm-wrapped kubelets (sig-windows-tools)
 * show nssm.exe here and keep their flags elsewhere: then no credential flags are found, and the
 * doctor says so.
 */
export async function readWindowsKubeletCommandLine(env: Readonly<Record<string, string | undefined>>, service = "kubelet"): Promise<string[] | undefined> {
  const reg = `${env["SystemRoot"] ?? env["SYSTEMROOT"] ?? "C:\\Windows"}\\System32\\reg.exe`;
  const r = await runCommand(reg, ["query", `HKLM\\SYSTEM\\CurrentControlSet\\Services\\${service}`, "/v", "ImagePath"]).catch(() => undefined);
  const value = r && r.code === 0 ? parseRegImagePath(r.stdout) : undefined;
  return value ? splitWindowsCommandLine(expandWindowsEnv(value, env)) : undefined;
}

/** Run a program without a shell, 10 s timeout; rejects only when it cannot start. */
function runCommand(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") return reject(err);
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Build real doctor dependencies. main.ts passes what only it may read from `process`.
 * @param options.env process.env; options.executablePath process.execPath for a single-executable
 * build (or the script path); options.write a stdout line writer; options.probe the core's AWS probe.
 */
export function createNodeDoctorDeps(options: {
  env: Readonly<Record<string, string | undefined>>;
  executablePath: string;
  write: (line: string) => void;
  probe: DoctorDeps["probe"];
  now?: () => Date;
  platform?: NodeJS.Platform;
}): DoctorDeps {
  return {
    env: options.env,
    fs: nodeDoctorFs,
    now: options.now ?? (() => new Date()),
    write: options.write,
    executablePath: options.executablePath,
    platform: options.platform ?? "linux",
    kubeletCommandLine: () => (options.platform === "win32" ? readWindowsKubeletCommandLine(options.env) : readKubeletCommandLine()),
    runCommand,
    probe: options.probe,
  };
}
