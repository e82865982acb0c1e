// Per-run wall time, CPU (user + system) and peak RSS of a child process. Node exposes no child
// rusage, so a small persistent python3 helper spawns each run and reaps it with os.wait4, which
// returns that one child's rusage. The helper is asynchronous to this process: a fake AWS living
// here keeps answering while a run is measured.

import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface Measured {
  wallMs: number;
  cpuMs: number;
  maxRssKiB: number;
  code: number;
  stderr: string;
}

const HELPER = String.raw`
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    t = time.perf_counter()
    p = subprocess.Popen(job["argv"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=job["env"])
    p.stdin.write(job["stdin"].encode()); p.stdin.close()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t) * 1000
    p.returncode = os.waitstatus_to_exitcode(status)
    print(json.dumps({"wallMs": wall, "cpuMs": (ru.ru_utime + ru.ru_stime) * 1000, "maxRssKiB": ru.ru_maxrss, "code": p.returncode, "stderr": err.decode(errors="replace")[-2000:]}), flush=True)
`;

export interface Measurer {
  run(argv: string[], env: Record<string, string>, stdin: string): Promise<Measured>;
  close(): void;
}

/** Start the helper; undefined when python3 is missing (the caller reports what it cannot measure). */
export async function startMeasurer(): Promise<Measurer | undefined> {
  const p: ChildProcess = spawn("python3", ["-c", HELPER], { stdio: ["pipe", "pipe", "inherit"] });
  const ok = await new Promise<boolean>((resolve) => {
    p.once("error", () => resolve(false));
    p.once("spawn", () => resolve(true));
  });
  if (!ok) return undefined;
  const waiting: ((m: Measured) => void)[] = [];
  createInterface({ input: p.stdout! }).on("line", (l) => waiting.shift()?.(JSON.parse(l) as Measured));
  let queue = Promise.resolve<unknown>(undefined);
  return {
    // One run at a time: runs are measured alone, never overlapping.
    run(argv, env, stdin) {
      const next = queue.then(
        () =>
          new Promise<Measured>((resolve) => {
            waiting.push(resolve);
            p.stdin!.write(JSON.stringify({ argv, env, stdin }) + "\n");
          }),
      );
      queue = next.catch(() => undefined);
      return next;
    },
    close() {
      p.stdin!.end();
    },
  };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
