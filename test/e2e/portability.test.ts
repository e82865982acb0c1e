// Runtime portability of the built executable: what it links against, and whether it runs in a
// bare Debian minbase chroot with and without libstdc++/libgcc_s. Needs root and debootstrap
// (scripts/ci-deps.sh); the chroot is cached under .cache/debootstrap/. Assumes `npm run build`.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(import.meta.dirname, "..", "..");
const DIST = join(ROOT, "dist");
const NAME = "ecr-credential-provider";
const LIBS_DIR = `${NAME}-libs`;
const CACHE = join(ROOT, ".cache", "debootstrap");
const ARCH = process.arch === "arm64" ? "arm64" : "x64";
const DEB_ARCH = ARCH === "arm64" ? "arm64" : "amd64";
const TRIPLET = ARCH === "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
const EXE = join(DIST, `${NAME}-linux-${ARCH}`);
const LIBS = join(DIST, "minimal-host-libs", `linux-${ARCH}`);

/** What the official Node 24 linux builds link against; a change here needs the docs updated. */
const EXPECTED_NEEDED = ["libdl.so.2", "libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libpthread.so.0", "libc.so.6"];
const GLIBC_FLOOR = "2.28";

function sh(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", input: opts.input ?? "", env: opts.env ?? process.env, timeout: opts.timeout ?? 120_000, maxBuffer: 32 << 20 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
}
const have = (cmd: string) => sh("sh", ["-c", `command -v ${cmd}`]).status === 0;
const versionSort = (a: string, b: string) => {
  const pa = a.split(".").map(Number), pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
};
/** Highest GLIBC_x.y symbol version an ELF file needs (`objdump -T | grep GLIBC_ | sort -V | tail -1`). */
function glibcNeeded(file: string): string {
  const out = sh("objdump", ["-T", file]).stdout;
  const versions = [...new Set([...out.matchAll(/GLIBC_(\d+\.\d+(?:\.\d+)?)/g)].map((m) => m[1]!))].sort(versionSort);
  return versions.at(-1) ?? "none";
}

/** The Debian mirror and suite apt uses on this machine (debian.sources or sources.list). */
function aptMirror(): { mirror: string; suite: string } {
  let mirror = "http://deb.debian.org/debian";
  for (const f of ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    const m = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+\S+\s+main/m.exec(text);
    if (m) { mirror = m[1]!; break; }
  }
  const osr = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  const suite = /^VERSION_CODENAME=(\w+)/m.exec(osr)?.[1] ?? "bookworm";
  return { mirror, suite };
}

/** A cached Debian minbase root for `suite`; made once with debootstrap (~30 s), then reused. */
function minbaseRoot(suite: string, mirror: string): string {
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

/** A throwaway copy of `base` (hard links, so it is instant and the cache stays untouched). */
function scratchRoot(base: string, label: string): string {
  const dir = join(ROOT, ".cache", "portability", `${label}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, ".."), { recursive: true });
  const r = sh("cp", ["-al", base, dir]);
  assert.equal(r.status, 0, `cp -al failed: ${r.stderr}`);
  return dir;
}

/**
 * Runs the executable inside `root` with a clean environment, in a private mount namespace
 * that has /proc (the dynamic loader reads /proc/self/exe to expand $ORIGIN).
 */
function runInChroot(root: string, exe: string, args: string[]) {
  // sh, not bash: bash reads ~/.bashrc when its stdin is a socket, as node's pipes are.
  const script = 'root=$1 exe=$2; shift 2; mount -t proc proc "$root/proc" && exec chroot "$root" "$exe" "$@"';
  return sh("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", root, exe, ...args], {
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
  });
}

/** Installs the executable at /opt/ecp/ecr-credential-provider in `root`, optionally with the libs beside it. */
function install(root: string, withLibs: boolean): string {
  mkdirSync(join(root, "opt", "ecp"), { recursive: true });
  cpSync(EXE, join(root, "opt", "ecp", NAME));
  if (withLibs) cpSync(LIBS, join(root, "opt", "ecp", LIBS_DIR), { recursive: true });
  return `/opt/ecp/${NAME}`;
}

function removeCxxRuntime(root: string): void {
  for (const dir of [`usr/lib/${TRIPLET}`, `lib/${TRIPLET}`]) {
    for (const lib of ["libstdc++.so.6", "libstdc++.so.6.0.30", "libgcc_s.so.1"]) rmSync(join(root, dir, lib), { force: true });
    const left = sh("sh", ["-c", `ls ${join(root, dir)} 2>/dev/null | grep -E '^(libstdc\\+\\+|libgcc_s)' || true`]).stdout.trim();
    assert.equal(left, "", `still present in ${dir}: ${left}`);
  }
}

const built = existsSync(EXE);
const notBuilt = built ? false : `${EXE} is missing: run \`npm run build\` first`;
/** A --host-only build on a machine without patchelf has no run path to the shipped libraries (build.mjs). */
const info = existsSync(join(DIST, "build-info.json")) ? JSON.parse(readFileSync(join(DIST, "build-info.json"), "utf8")) : undefined;
const noRunpath = info?.runpath === null && "built without patchelf (a --host-only development build): no run path to the shipped libraries";

describe("linkage of the built executable", { skip: notBuilt || (!have("readelf") && "readelf (binutils) missing") }, () => {
  it("needs only glibc, libstdc++ and libgcc_s, and at most GLIBC_2.28", (t) => {
    const dyn = sh("readelf", ["-d", EXE]).stdout;
    const needed = [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
    const interp = ARCH === "arm64" ? "ld-linux-aarch64.so.1" : "ld-linux-x86-64.so.2";
    assert.deepEqual(needed.filter((n) => n !== interp).sort(), [...EXPECTED_NEEDED].sort());
    const runpath = /\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]+)\]/.exec(dyn)?.[1];
    if (noRunpath) t.diagnostic(noRunpath);
    else assert.equal(runpath, `$ORIGIN/${LIBS_DIR}`);
    const glibc = glibcNeeded(EXE);
    assert.equal(glibc, GLIBC_FLOOR, `highest GLIBC_ symbol version is ${glibc}`);
    const cxx = [...new Set([...sh("objdump", ["-T", EXE]).stdout.matchAll(/(GLIBCXX_[\d.]+|CXXABI_[\d.]+|GCC_[\d.]+)/g)].map((m) => m[1]!))].sort();
    t.diagnostic(`NEEDED: ${needed.join(" ")}; RUNPATH ${runpath}; GLIBC max ${glibc}; ${cxx.join(" ")}`);
    if (ARCH === process.arch) t.diagnostic(`ldd:\n${sh("ldd", [EXE]).stdout}`);
  });

  it("ships libstdc++/libgcc_s for minimal hosts, and says which glibc they need", (t) => {
    for (const lib of ["libstdc++.so.6", "libgcc_s.so.1"]) {
      assert.ok(existsSync(join(LIBS, lib)), `${lib} missing in ${LIBS}`);
      t.diagnostic(`${lib}: needs GLIBC_${glibcNeeded(join(LIBS, lib))}`);
    }
  });
});

const rootSkip =
  notBuilt ||
  (process.getuid?.() !== 0 && "needs root (chroot, mount)") ||
  (!have("debootstrap") && "debootstrap missing: run `bash scripts/ci-deps.sh`") ||
  (!have("unshare") && "unshare (util-linux) missing") ||
  false;

describe("runs in a Debian minbase chroot", { skip: rootSkip, timeout: 900_000 }, () => {
  const { mirror, suite } = aptMirror();
  const suites = [suite, ...(process.env.PORTABILITY_SUITES ?? "").split(",").map((s) => s.trim()).filter((s) => s && s !== suite)];
  for (const s of suites) {
    it(`${s}: runs with the distribution's own libraries`, (t) => {
      const base = minbaseRoot(s, mirror);
      const root = scratchRoot(base, `${s}-full`);
      try {
        const r = runInChroot(root, install(root, false), ["--version"]);
        assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}`);
        const glibc = runInChroot(root, "/usr/bin/ldd", ["--version"]).stdout.split("\n")[0];
        t.diagnostic(`${s} (${mirror}): exit 0, stdout ${JSON.stringify(r.stdout.trim().slice(0, 80))}; ${glibc}`);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  it(`${suite}: without libstdc++/libgcc_s it fails to load, and runs with the shipped copies beside it`, { skip: noRunpath }, (t) => {
    const base = minbaseRoot(suite, mirror);
    const root = scratchRoot(base, `${suite}-nolibs`);
    try {
      removeCxxRuntime(root);
      const bare = runInChroot(root, install(root, false), ["--version"]);
      assert.equal(bare.status, 127, `expected the loader to fail, got exit ${bare.status}: ${bare.stderr}`);
      assert.match(bare.stderr, /libstdc\+\+\.so\.6: cannot open shared object file/);
      t.diagnostic(`without: ${bare.stderr.trim()}`);
      const withLibs = runInChroot(root, install(root, true), ["--version"]);
      assert.equal(withLibs.status, 0, `exit ${withLibs.status}\n${withLibs.stderr}`);
      t.diagnostic(`with /opt/ecp/${LIBS_DIR}/: exit 0`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
