// The release is what the docs say: every artifact name and path in README.md, docs/ and
// node-config/ is produced by `scripts/release.mjs` (or build.mjs for dist/ names); the tarball
// carries its own SHA256SUMS and installs when downloaded alone; a tampered one is refused.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, appendFileSync, copyFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { builtArches, HOST_ARCH, localRelease, releaseSkip, REPO, VERSION, type LocalRelease } from "../helpers/release.ts";
import { linkHostRuntime } from "../helpers/scratch-root.ts";

const NAME = "ecr-credential-provider";
const run = (cmd: string, args: string[], opts: { cwd?: string } = {}) => spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });

// --- the names in the docs ------------------------------------------------------------------------
const VER = String.raw`(?:<version>|\$\{?VERSION\}?|\d+\.\d+\.\d+)`;
const ALT = String.raw`(?:<[^>\s]*>|\{[^}\s]*\}|\$\{?ARCH\}?|[a-z0-9]+)`;
/** A reference to a release or build artifact: tarball, .deb, URL-layout executable (+ .sha256), dist file, with an optional path inside. */
const REF = new RegExp(
  String.raw`(?:dist\/(?:release\/)?)?(?:v${VER}\/linux\/${ALT}\/)?${NAME}(?:-${VER})?(?:-linux-${ALT}|_${VER}_${ALT}\.deb)(?:\.tar\.gz|\.sha256)?(?:\/[A-Za-z0-9._-]+)*\/?`,
  "g",
);

/** Every text file the docs rule covers. */
function docFiles(): string[] {
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
  return [join(REPO, "README.md"), ...walk(join(REPO, "docs")), ...walk(join(REPO, "node-config"))].filter((f) => !/\.(png|gz|deb)$/.test(f));
}

/** Shell assignments like PKG=ecr-credential-provider-$VERSION-linux-$ARCH, expanded where used. */
function expandShellVars(text: string): string {
  const vars = new Map<string, string>();
  for (const m of text.matchAll(/^\s*([A-Z][A-Z0-9_]*)=([^\s;`]+)\s*$/gm))
    if (!["VERSION", "ARCH"].includes(m[1]!) && !m[2]!.includes("$(")) vars.set(m[1]!, m[2]!);
  let out = text;
  for (const [k, v] of vars) out = out.replace(new RegExp(String.raw`\$\{${k}\}|\$${k}\b`, "g"), v);
  return out;
}

/** The references in one file, each with its line number, skipping upstream URLs (artifacts.k8s.io, GitHub). */
function references(file: string): Array<{ ref: string; line: number }> {
  const text = expandShellVars(readFileSync(file, "utf8"));
  const out: Array<{ ref: string; line: number }> = [];
  for (const m of text.matchAll(REF)) {
    const before = text.slice(text.lastIndexOf("\n", m.index) + 1, m.index);
    const word = before.split(/[\s"'`(]/).pop() ?? "";
    if (/:\/\//.test(word) && !/example\.com/.test(word)) continue;
    out.push({ ref: m[0].replace(/\/$/, ""), line: text.slice(0, m.index).split("\n").length });
  }
  return out;
}

/** Concrete names for one reference, per architecture naming scheme (release: amd64/arm64; dist/: x64/arm64). */
function expansions(ref: string): string[][] {
  const base = ref.replace(new RegExp(VER.replace(String.raw`|\d+\.\d+\.\d+`, ""), "g"), VERSION);
  return [
    ["amd64", "arm64"],
    ["x64", "arm64"],
  ].map((scheme) => {
    let words = [base];
    const step = (re: RegExp, alts: (m: string) => string[]) => {
      words = words.flatMap((w) => {
        const m = re.exec(w);
        return m ? alts(m[0]).map((a) => w.slice(0, m.index) + a + w.slice(m.index + m[0].length)) : [w];
      });
    };
    for (let i = 0; i < 6; i++) {
      step(/<arch>|\$\{?ARCH\}?/, () => scheme);
      step(/\{[^}]*\}/, (m) => m.slice(1, -1).split(","));
      step(/<[^>]*\|[^>]*>/, (m) => m.slice(1, -1).split("|"));
    }
    // One name is for one architecture: `linux/{amd64,arm64}/…-linux-<arch>` means amd64/…-amd64 and arm64/…-arm64.
    return words.filter((w) => new Set(w.match(/amd64|arm64|x64/g) ?? []).size <= 1);
  });
}

let release: LocalRelease;
/** Paths inside each tarball, with the top directory (ecr-credential-provider-<v>-linux-<arch>/...). */
const tarEntries = new Set<string>();
let scratch: string;

const skip = releaseSkip();
describe("release artifacts", { skip, timeout: 600_000 }, () => {
  before(() => {
    release = localRelease("current");
    for (const f of release.files.filter((f) => f.endsWith(".tar.gz"))) {
      for (const e of run("tar", ["-tzf", join(release.dir, f)]).stdout.split("\n")) if (e) tarEntries.add(e.replace(/\/$/, ""));
    }
    scratch = mkdtempSync(join(REPO, ".cache", "release-test-"));
  });
  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("names tarballs, .debs and the URL layout Go-style (amd64/arm64), one tarball per architecture", () => {
    for (const a of release.arches) {
      for (const f of [
        `${NAME}-${VERSION}-linux-${a}.tar.gz`,
        `${NAME}_${VERSION}_${a}.deb`,
        `v${VERSION}/linux/${a}/${NAME}-linux-${a}`,
        `v${VERSION}/linux/${a}/${NAME}-linux-${a}.sha256`,
      ]) {
        assert.ok(release.files.includes(f), `${f} missing from ${release.files.join(" ")}`);
      }
    }
    assert.ok(release.files.includes("SHA256SUMS"));
    assert.ok(!release.files.some((f) => /x64/.test(f)), release.files.join(" "));
  });

  it("every artifact name and path in README.md, docs/ and node-config/ is produced by the release (or build.mjs for dist/)", (t) => {
    const produced = (name: string): boolean => {
      if (name.startsWith("dist/release/")) return release.files.includes(name.slice("dist/release/".length));
      if (name.startsWith("dist/")) return existsSync(join(REPO, name));
      if (name.includes("/")) return release.files.includes(name) || tarEntries.has(name);
      return (
        release.files.some((f) => f.split("/").pop() === name) ||
        [...tarEntries].some((e) => e.split("/").pop() === name) ||
        existsSync(join(REPO, "dist", name))
      );
    };
    const built = new Set([...release.arches, ...builtArches(), ...builtArches().map((a) => (a === "amd64" ? "x64" : a))]);
    const bad: string[] = [];
    let checked = 0;
    const unbuilt: string[] = [];
    for (const file of docFiles()) {
      for (const { ref, line } of references(file)) {
        checked++;
        // Names of an architecture dist/ was not built for (a --host-only build) cannot be checked here.
        const sets = expansions(ref).map((names) => names.filter((n) => ![...n.matchAll(/(amd64|arm64|x64)/g)].some((m) => !built.has(m[1]!))));
        if (sets.every((here) => here.length === 0)) {
          unbuilt.push(ref);
          continue;
        }
        if (!sets.some((here) => here.length > 0 && here.every(produced))) bad.push(`${relative(REPO, file)}:${line}: ${ref}`);
      }
    }
    t.diagnostic(
      `${checked} references checked against ${release.files.length} release files and ${tarEntries.size} tarball entries${unbuilt.length ? `; ${unbuilt.length} only name architectures not built here: ${unbuilt.join(" ")}` : ""}`,
    );
    assert.ok(checked >= 20, `only ${checked} references found: is the pattern still right?`);
    assert.deepEqual(bad, [], `not produced by npm run release:\n${bad.join("\n")}`);
  });

  it("each tarball carries SHA256SUMS for every file in it, and unpacks to one directory named like the tarball", () => {
    for (const a of release.arches) {
      const top = `${NAME}-${VERSION}-linux-${a}`;
      const dir = join(scratch, `unpack-${a}`);
      mkdirSync(dir);
      assert.equal(run("tar", ["-xzf", join(release.dir, `${top}.tar.gz`), "-C", dir]).status, 0);
      assert.deepEqual(readdirSync(dir), [top]);
      const sums = readFileSync(join(dir, top, "SHA256SUMS"), "utf8");
      const listed = sums
        .trim()
        .split("\n")
        .map((l) => l.slice(66));
      const files = run("find", [".", "-type", "f", "!", "-name", "SHA256SUMS"], { cwd: join(dir, top) })
        .stdout.trim()
        .split("\n")
        .map((f) => f.replace(/^\.\//, ""))
        .sort();
      assert.deepEqual([...listed].sort(), files);
      const check = run("sha256sum", ["--check", "--strict", "SHA256SUMS"], { cwd: join(dir, top) });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      for (const f of [NAME, "install.sh", "node-config/install.sh", "LICENSE", "THIRD-PARTY-NOTICES.txt"]) assert.ok(listed.includes(f), f);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** install.sh --release <tarball> into a scratch k3s root (files only, no unit to edit). */
  const installAlone = (tarball: string, label: string) => {
    const root = join(scratch, `root-${label}`);
    mkdirSync(root);
    linkHostRuntime(root);
    const r = run("sh", [join(REPO, "node-config", "install.sh"), "--distro", "k3s", "--root", root, "--release", tarball]);
    return { ...r, root };
  };

  it("a tarball downloaded alone (no SHA256SUMS beside it) installs, verified by the SHA256SUMS inside", () => {
    const alone = join(scratch, "download");
    mkdirSync(alone);
    const tarball = join(alone, `${NAME}-${VERSION}-linux-${HOST_ARCH}.tar.gz`);
    copyFileSync(join(release.dir, `${NAME}-${VERSION}-linux-${HOST_ARCH}.tar.gz`), tarball);
    const r = installAlone(tarball, "alone");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /verified sha256 of ecr-credential-provider/);
    assert.ok(existsSync(join(r.root, "var/lib/rancher/credentialprovider/bin", NAME)));
  });

  it("a tarball whose executable does not match its SHA256SUMS is refused (exit 67), nothing installed", () => {
    const top = `${NAME}-${VERSION}-linux-${HOST_ARCH}`;
    const dir = join(scratch, "tamper");
    mkdirSync(dir);
    assert.equal(run("tar", ["-xzf", join(release.dir, `${top}.tar.gz`), "-C", dir]).status, 0);
    appendFileSync(join(dir, top, NAME), "x");
    const tarball = join(scratch, `${top}.tar`);
    assert.equal(run("tar", ["-cf", tarball, "-C", dir, top]).status, 0);
    rmSync(dir, { recursive: true, force: true });
    const r = installAlone(tarball, "tampered");
    assert.equal(r.status, 67, r.stdout + r.stderr); // EX_UNVERIFIED
    assert.match(r.stderr, /checksum mismatch/);
    assert.ok(!existsSync(join(r.root, "var/lib/rancher")));
  });

  it("the release SHA256SUMS covers every file of the release", () => {
    const check = run("sha256sum", ["--check", "--strict", "SHA256SUMS"], { cwd: release.dir });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const listed = readFileSync(join(release.dir, "SHA256SUMS"), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.slice(66))
      .sort();
    assert.deepEqual(listed, release.files.filter((f) => f !== "SHA256SUMS").sort());
  });
});
