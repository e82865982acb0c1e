// A local copy of the release for tests: `scripts/release.mjs --out-dir .cache/test-release-<key>`
// over what a build directory holds (dist/: both architectures after `npm run build`, this machine's
// after a --host-only build). Packaging takes 20-90 s per architecture, so the output is kept under
// .cache/ keyed by everything that goes into it and shared by the test files; older keys are pruned.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export const REPO = join(import.meta.dirname, "..", "..");
export const VERSION: string = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version;
/** Go-style architecture names, as the release uses them. */
export const HOST_ARCH = process.arch === "arm64" ? "arm64" : "amd64";
const GO_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64" };
const CACHE = join(REPO, ".cache");

/** Stand-ins for a contact (RFC 2606/6761 reserved names, the address package.json once carried, TODO): never in package metadata. */
export const PLACEHOLDER = /example\.(com|net|org)\b|@([^\s>]*\.)?(example|invalid|test|localhost)>|noreply|placeholder|\bTODO\b|ecr-credential-provider\.dev/i;

/** Why no release can be packaged here, or false. */
export function releaseSkip(): string | false {
  if (!existsSync(join(REPO, "dist", "build-info.json"))) return "dist/ is not built: run `npm run build`";
  if (!builtArches().includes(HOST_ARCH)) return `dist/ has no linux-${HOST_ARCH} build`;
  return spawnSync("dpkg-deb", ["--version"]).status === 0 ? false : "dpkg-deb missing: run `bash scripts/ci-deps.sh`";
}

/** The architectures a build directory holds, Go-style. */
export function builtArches(dist = join(REPO, "dist")): string[] {
  const info = JSON.parse(readFileSync(join(dist, "build-info.json"), "utf8"));
  return (info.targets as string[]).map((t) => GO_ARCH[t] ?? t);
}

export interface LocalRelease {
  dir: string;
  arches: string[];
  /** Every file of the release, relative to dir (tarballs, .debs, URL layout, SHA256SUMS). */
  files: string[];
}

const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));

/** Hash of everything the release is made from: the build's checksums and info, the packaging code, node-config/, the docs it ships. */
function inputsKey(dist: string): string {
  const h = createHash("sha256");
  const files = [
    join(dist, "SHA256SUMS"),
    join(dist, "build-info.json"),
    join(REPO, "scripts", "release.mjs"),
    join(REPO, "scripts", "deb-maintainer.mjs"),
    join(REPO, "build.mjs"),
    join(REPO, "package.json"),
    join(REPO, "LICENSE"),
    join(REPO, "README.md"),
    ...walk(join(REPO, "node-config")).sort(),
  ];
  for (const f of files) h.update(relative(REPO, f)).update("\0").update(readFileSync(f)).update("\0");
  // The .deb's Maintainer comes from the environment (scripts/deb-maintainer.mjs).
  for (const v of ["DEBFULLNAME", "NAME", "DEBEMAIL", "EMAIL"]) h.update(`${v}=${process.env[v] ?? ""}\0`);
  return h.digest("hex").slice(0, 16);
}

/**
 * Test files run in parallel: the first to need a release packages it (holding `<dir>.lock`), the
 * others wait for it instead of packaging the same thing again. Returns true when `dir` is ready.
 */
function waitForOther(dir: string): boolean {
  const lock = `${dir}.lock`;
  mkdirSync(CACHE, { recursive: true });
  try {
    mkdirSync(lock);
    process.once("exit", () => rmSync(lock, { recursive: true, force: true }));
    return false; // ours to make
  } catch {
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 900 && existsSync(lock); i++) Atomics.wait(sleeper, 0, 0, 1000);
    if (existsSync(join(dir, "SHA256SUMS"))) return true;
    rmSync(lock, { recursive: true, force: true }); // the other process died; make it here
    return waitForOther(dir);
  }
}

/**
 * The release of `dist` (default dist/), packaged once per content and kept in .cache/.
 * `label` separates independent releases (a bumped-version build) so pruning keeps both.
 */
export function localRelease(label: string, dist = join(REPO, "dist")): LocalRelease {
  const arches = builtArches(dist);
  const prefix = `test-release-${label}-`;
  const dir = join(CACHE, `${prefix}${inputsKey(dist)}`);
  if (!existsSync(join(dir, "SHA256SUMS")) && !waitForOther(dir)) {
    mkdirSync(CACHE, { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}`;
    const args = [join(REPO, "scripts", "release.mjs"), "--out-dir", tmp, "--targets", arches.map((a) => `linux-${a}`).join(",")];
    if (dist !== join(REPO, "dist")) args.push("--dist", dist);
    const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 16 << 20 });
    if (r.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      rmSync(`${dir}.lock`, { recursive: true, force: true });
      throw new Error(`release.mjs failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    }
    if (existsSync(join(dir, "SHA256SUMS")))
      rmSync(tmp, { recursive: true, force: true }); // another test file won the race
    else {
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    }
    rmSync(`${dir}.lock`, { recursive: true, force: true });
    for (const old of readdirSync(CACHE))
      if (old.startsWith(prefix) && join(CACHE, old) !== dir && !/\.(tmp-\d+|lock)$/.test(old)) rmSync(join(CACHE, old), { recursive: true, force: true });
  }
  return { dir, arches, files: walk(dir).map((f) => relative(dir, f)) };
}

/** dist/'s sources built once more as version `version` (host architecture only), kept in .cache/ like the release. */
export function bumpedBuild(version: string): string {
  const key = createHash("sha256")
    .update(readFileSync(join(REPO, "dist", "SHA256SUMS")))
    .update(version)
    .digest("hex")
    .slice(0, 16);
  const prefix = "test-build-bumped-";
  const dir = join(CACHE, `${prefix}${key}`);
  if (existsSync(join(dir, "build-info.json"))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  const r = spawnSync(process.execPath, [join(REPO, "build.mjs"), "--host-only", "--skip-smoke", "--quiet", "--out-dir", tmp, "--version", version], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`build.mjs --version ${version} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  for (const old of readdirSync(CACHE))
    if (old.startsWith(prefix) && join(CACHE, old) !== dir && !old.includes(".tmp-")) rmSync(join(CACHE, old), { recursive: true, force: true });
  return dir;
}
