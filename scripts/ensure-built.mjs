#!/usr/bin/env node
// `npm test` and `npm run demo` run against dist/ecr-credential-provider. Build it (this machine's
// architecture only) when it is missing or older than the sources; leave a full `npm run build`
// alone when it is current. `--with-trivial` (the benchmarks) also wants the trivial SEA they
// compare against; the demo and the tests do not build it.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const exe = join(root, "dist", "ecr-credential-provider");
const withTrivial = process.argv.includes("--with-trivial");

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((n) => newest(join(path, n))));
}

const inputs = ["src", "build.mjs", "package-lock.json", ...(withTrivial ? ["bench/trivial"] : [])].map((p) => join(root, p)).filter(existsSync);
const stale =
  !existsSync(exe) ||
  (withTrivial && !["trivial-sea", "https-post-sea"].every((f) => existsSync(join(root, "dist", "bench", f)))) ||
  Math.max(...inputs.map(newest)) > statSync(exe).mtimeMs;
if (!stale) {
  console.log("ensure-built: dist/ecr-credential-provider is current");
  process.exit(0);
}
const args = ["--host-only", ...(withTrivial ? ["--with-trivial"] : [])];
console.log(`ensure-built: building dist/ecr-credential-provider for this machine (node build.mjs ${args.join(" ")})`);
const r = spawnSync(process.execPath, [join(root, "build.mjs"), ...args], { stdio: "inherit" });
process.exit(r.status ?? 1);
