#!/usr/bin/env node
// `npm test` runs the end-to-end suites against dist/ecr-credential-provider. Build it (this
// machine's architecture only) when it is missing or older than the sources; leave a full
// `npm run build` alone when it is current.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const exe = join(root, "dist", "ecr-credential-provider");

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((n) => newest(join(path, n))));
}

const inputs = ["src", "build.mjs", "package-lock.json", "bench/trivial"].map((p) => join(root, p)).filter(existsSync);
const stale = !existsSync(exe) || !existsSync(join(root, "dist", "bench", "trivial-sea")) || Math.max(...inputs.map(newest)) > statSync(exe).mtimeMs;
if (!stale) {
  console.log("ensure-built: dist/ecr-credential-provider is current");
  process.exit(0);
}
console.log("ensure-built: building dist/ecr-credential-provider for this machine (node build.mjs --host-only --with-trivial)");
const r = spawnSync(process.execPath, [join(root, "build.mjs"), "--host-only", "--with-trivial"], { stdio: "inherit" });
process.exit(r.status ?? 1);
