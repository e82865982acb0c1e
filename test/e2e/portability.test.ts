// Runtime portability of the built executable: what it links against, and whether it runs in a
// bare Debian minbase chroot with and without libstdc++/libgcc_s. Needs root and debootstrap
// (scripts/ci-deps.sh); the chroot is cached under .cache/debootstrap/. Assumes `npm run build`.
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { aptMirror, chrootSkip, have, minbaseRoot, runInChroot, scratchRoot, sh } from "../helpers/debian-root.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const DIST = join(ROOT, "dist");
const NAME = "ecr-credential-provider";
const LIBS_DIR = `${NAME}-libs`;
const ARCH = process.arch === "arm64" ? "arm64" : "x64";
const TRIPLET = ARCH === "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
const EXE = join(DIST, `${NAME}-linux-${ARCH}`);
const LIBS = join(DIST, "minimal-host-libs", `linux-${ARCH}`);

/** What the official Node 24 linux builds link against; a change here needs the docs updated. */
const EXPECTED_NEEDED = ["libdl.so.2", "libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libpthread.so.0", "libc.so.6"];
const GLIBC_FLOOR = "2.28";

const versionSort = (a: string, b: string) => {
  const pa = a.split(".").map(Number),
    pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
};
/** Highest GLIBC_x.y symbol version an ELF file needs (`objdump -T | grep GLIBC_ | sort -V | tail -1`). */
function glibcNeeded(file: string): string {
  const out = sh("objdump", ["-T", file]).stdout;
  const versions = [...new Set([...out.matchAll(/GLIBC_(\d+\.\d+(?:\.\d+)?)/g)].map((m) => m[1]!))].sort(versionSort);
  return versions.at(-1) ?? "none";
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

const rootSkip = notBuilt || chrootSkip();

describe("runs in a Debian minbase chroot", { skip: rootSkip, timeout: 900_000 }, () => {
  const { mirror, suite } = aptMirror();
  const suites = [
    suite,
    ...(process.env.PORTABILITY_SUITES ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s && s !== suite),
  ];
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
