// Real DoctorDeps for a Linux node: node:fs, /proc scanning for the kubelet, execFile for helpers. Built by main.ts.
import { execFile } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import type { DoctorDeps, DoctorFs } from "./types.ts";

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
    const argv = Buffer.from(raw).toString("utf8").split("\0").filter((a) => a !== "");
    if (argv[0] && argv[0].split("/").pop() === "kubelet") return argv;
  }
  return undefined;
}

/** Run a program without a shell, 10 s timeout; rejects only when it cannot start. */
function runCommand(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") return reject(err);
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
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
}): DoctorDeps {
  return {
    env: options.env,
    fs: nodeDoctorFs,
    now: options.now ?? (() => new Date()),
    write: options.write,
    executablePath: options.executablePath,
    kubeletCommandLine: () => readKubeletCommandLine(),
    runCommand,
    probe: options.probe,
  };
}
