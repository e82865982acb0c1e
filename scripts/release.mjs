#!/usr/bin/env node
// Packages what build.mjs left in dist/ into dist/release/ (run `npm run release` = build + this):
//   ecr-credential-provider-<version>-linux-{amd64,arm64}.tar.gz   (with its own SHA256SUMS inside)
//   ecr-credential-provider_<version>_{amd64,arm64}.deb
//   v<version>/linux/{amd64,arm64}/ecr-credential-provider-linux-<arch>(.sha256)   (kops, image-builder)
//   SHA256SUMS
// Reproducible: mtimes = SOURCE_DATE_EPOCH (default: the commit time of HEAD), sorted entries,
// owner 0:0, gzip -n. `--verify-reproducible` packages twice and compares. Layout and paths:
// docs/build-and-release.md.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync,
  statSync, utimesSync, writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ARCHES, DIST_FILES, LIBS_DIR_NAME, NAME, WINDOWS_TARGETS, executableName } from "../build.mjs";
import { debMaintainer } from "./deb-maintainer.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
/**
 * Where the .deb installs the executable. The packaged install.sh links the kit path (or the
 * distribution's fixed path) to it, so an apt upgrade updates what the kubelet runs.
 */
const DEB_BIN_DIR = "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec";
const DEB_SHARE_DIR = `/usr/share/${NAME}`;
/** install.sh's state; the .deb's prerm reads its manifest to undo wiring that uses the package. */
const INSTALL_STATE = `/var/lib/${NAME}/install`;
/** The plugin's default token cache (src/doctor/checks.ts DEFAULT_CACHE_DIR); purge deletes it. */
const CACHE_DIR = `/var/cache/${NAME}`;
/** Release names use the Go/Debian architecture names (amd64, arm64): `linux-<goArch>`. */
const goArch = (arch) => ARCHES[arch].deb;
/** Every file a release makes for one target, by kind; one place for the names. */
const ARTIFACTS = {
  tarTop: (v, arch) => `${NAME}-${v}-linux-${goArch(arch)}`,
  tarball: (v, arch) => `${NAME}-${v}-linux-${goArch(arch)}.tar.gz`,
  deb: (v, arch) => `${NAME}_${v}_${goArch(arch)}.deb`,
  urlExe: (v, arch) => `v${v}/linux/${goArch(arch)}/${NAME}-linux-${goArch(arch)}`,
};

const { values: opts } = parseArgs({
  options: {
    "out-dir": { type: "string" },
    // Another build directory (tests package a build of a bumped version); default dist/.
    dist: { type: "string" },
    // linux-amd64,linux-arm64 (default: every target build.mjs knows; a release ships all of them).
    targets: { type: "string" },
    "verify-reproducible": { type: "boolean", default: false },
  },
});
const DIST = opts.dist ? resolve(opts.dist) : join(ROOT, "dist");
const ALL_TARGETS = Object.keys(ARCHES);
const TARGETS = opts.targets
  ? opts.targets.split(",").map((t) => {
      const arch = ALL_TARGETS.find((a) => `linux-${goArch(a)}` === t.trim());
      if (!arch) { console.error(`release: unknown target ${t}; known: ${ALL_TARGETS.map((a) => `linux-${goArch(a)}`).join(", ")}`); process.exit(2); }
      return arch;
    })
  : ALL_TARGETS;
const warned = new Set();
const warnOnce = (msg) => { if (!warned.has(msg)) { warned.add(msg); console.warn(`release: ${msg}`); } };
const fail = (msg) => { console.error(`release: ${msg}`); process.exit(1); };
const sha256 = (f) => createHash("sha256").update(readFileSync(f)).digest("hex");

function sourceDateEpoch() {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  const r = spawnSync("git", ["log", "-1", "--format=%ct", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) fail("no SOURCE_DATE_EPOCH and no git commit to take it from");
  return Number(r.stdout.trim());
}
const EPOCH = sourceDateEpoch();

/** Spawns a shell pipeline; resolves when it exits 0. */
function sh(script, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn("sh", ["-c", script], { cwd: ROOT, env: { ...process.env, ...env, LC_ALL: "C" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${script}\nexited ${code}\n${out}`))));
  });
}
const q = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

/** Copies src to dest with a normalised mode (0755 for executables and dirs, else 0644). */
function put(src, dest, mode) {
  mkdirSync(dirname(dest), { recursive: true });
  if (statSync(src).isDirectory()) {
    for (const e of readdirSync(src)) if (!e.startsWith(".")) put(join(src, e), join(dest, e));
    return;
  }
  copyFileSync(src, dest);
  chmodSync(dest, mode ?? (statSync(src).mode & 0o111 ? 0o755 : 0o644));
}

/** Fixes modes of directories and every mtime under dir to EPOCH. */
function normalise(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { normalise(p); chmodSync(p, 0o755); }
    if (!lstatSync(p).isSymbolicLink()) utimesSync(p, EPOCH, EPOCH);
  }
  chmodSync(dir, 0o755);
  utimesSync(dir, EPOCH, EPOCH);
}

/** Files shipped in both the tarball and the .deb, in their tarball layout. */
function stageCommon(arch, dir) {
  put(join(DIST, executableName(arch)), join(dir, NAME), 0o755);
  const nodeConfig = join(ROOT, "node-config");
  if (existsSync(nodeConfig)) put(nodeConfig, join(dir, "node-config"));
  else warnOnce("node-config/ does not exist yet; packaging without it");
  if (existsSync(join(nodeConfig, "install.sh"))) put(join(nodeConfig, "install.sh"), join(dir, "install.sh"), 0o755);
  for (const f of ["LICENSE", "README.md"]) {
    if (existsSync(join(ROOT, f))) put(join(ROOT, f), join(dir, f), 0o644);
    else warnOnce(`${f} is missing; packaging without it`);
  }
  put(join(DIST, DIST_FILES.notices), join(dir, DIST_FILES.notices), 0o644);
  // Opt-in: copy to <bin dir>/ecr-credential-provider-libs/ only on hosts without libstdc++/libgcc_s.
  put(join(DIST, DIST_FILES.minimalHostLibs, `linux-${arch}`), join(dir, "optional", LIBS_DIR_NAME));
}

/** Every regular file under dir, relative to it, sorted (byte order, as `sort` in the C locale). */
function filesUnder(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name), base) : [relative(base, join(dir, e.name))]))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function tarball(arch, out, stage) {
  const top = ARTIFACTS.tarTop(VERSION, arch);
  const dir = join(stage, `tar-${arch}`, top);
  stageCommon(arch, dir);
  // Its own checksums: a tarball downloaded alone can be checked (install.sh does) without the release's SHA256SUMS.
  const sums = filesUnder(dir).map((f) => `${sha256(join(dir, f))}  ${f}`);
  writeFileSync(join(dir, DIST_FILES.sums), `${sums.join("\n")}\n`);
  normalise(dirname(dir));
  const file = join(out, ARTIFACTS.tarball(VERSION, arch));
  await sh(`tar --sort=name --format=gnu --mtime=@${EPOCH} --owner=0 --group=0 --numeric-owner ` +
    `-C ${q(dirname(dir))} -cf - ${q(top)} | gzip -n -6 > ${q(file)}`);
  return file;
}

function installedSizeKiB(dir) {
  let bytes = 0;
  const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) { const p = join(d, e.name); if (e.isDirectory()) walk(p); else bytes += statSync(p).size; } };
  walk(dir);
  return Math.ceil(bytes / 1024);
}

/** The Debian Maintainer: who builds and publishes the packages (scripts/deb-maintainer.mjs); never a placeholder. */
let maintainerField;
function maintainer() {
  if (!maintainerField) {
    try {
      const m = debMaintainer();
      maintainerField = m.value;
      if (m.from !== "environment") console.error(`release: .deb Maintainer: ${m.value}, the build account (set DEBFULLNAME and DEBEMAIL to name who publishes the packages)`);
    } catch (e) {
      fail(e.message);
    }
  }
  return maintainerField;
}

/** Extended description lines for debian/control: " " + words, at most 80 columns. */
function wrap(text) {
  const lines = [];
  for (const w of text.split(/\s+/)) {
    if (lines.length && lines.at(-1).length + 1 + w.length <= 79) lines[lines.length - 1] += ` ${w}`;
    else lines.push(w);
  }
  return lines.map((l) => ` ${l}`);
}

/** RFC 2822 date of SOURCE_DATE_EPOCH, as debian/changelog wants it. */
const changelogDate = () => new Date(EPOCH * 1000).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, "$1, $2 $3 $4 $5 +0000");

/**
 * Maintainer scripts. prerm on `remove` (not on upgrade): when install.sh wired the kubelet to this
 * package's executable (a link to it in its manifest), undo that wiring first; the kubelet refuses to
 * start when a provider's executable is missing. postrm on `purge`: the plugin's token cache.
 */
const PRERM = `#!/bin/sh
set -e
if [ "$1" = remove ] && [ -f ${INSTALL_STATE}/manifest ]; then
	tab=$(printf '\\t')
	wired=
	while IFS="$tab" read -r kind path _; do
		if [ "$kind" = created ] && [ "$(readlink "$path" 2>/dev/null)" = ${DEB_BIN_DIR}/${NAME} ]; then wired=$path; fi
	done < ${INSTALL_STATE}/manifest
	if [ -n "$wired" ]; then
		echo "${NAME}: $wired links to this package; undoing the kubelet wiring (install.sh --uninstall) before removal" >&2
		sh ${DEB_SHARE_DIR}/node-config/install.sh --distro generic --uninstall >&2
		echo "${NAME}: restart the kubelet to run it without the credential provider" >&2
	fi
fi
exit 0
`;
const POSTRM = `#!/bin/sh
set -e
if [ "$1" = purge ]; then rm -rf ${CACHE_DIR}; fi
exit 0
`;

async function deb(arch, out, stage) {
  const debArch = ARCHES[arch].deb;
  const root = join(stage, `deb-${arch}`);
  const tmp = join(stage, `deb-${arch}-files`);
  stageCommon(arch, tmp);
  put(join(tmp, NAME), join(root, DEB_BIN_DIR, NAME), 0o755);
  if (existsSync(join(tmp, "node-config"))) put(join(tmp, "node-config"), join(root, DEB_SHARE_DIR, "node-config"));
  const doc = join(root, "usr", "share", "doc", NAME);
  put(join(ROOT, "LICENSE"), join(doc, "copyright"), 0o644);
  const changelog = join(stage, `changelog-${arch}`);
  writeFileSync(changelog, `${NAME} (${VERSION}) stable; urgency=medium\n\n  * Release ${VERSION}; changes: README.md.\n\n -- ${maintainer()}  ${changelogDate()}\n`);
  await sh(`gzip -n -9 -c ${q(changelog)} > ${q(join(doc, "changelog.Debian.gz"))}`);
  chmodSync(join(doc, "changelog.Debian.gz"), 0o644);
  put(join(tmp, DIST_FILES.notices), join(doc, DIST_FILES.notices), 0o644);
  if (existsSync(join(tmp, "README.md"))) put(join(tmp, "README.md"), join(doc, "README.md"), 0o644);
  const md5 = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else md5.push(`${createHash("md5").update(readFileSync(p)).digest("hex")}  ${relative(root, p)}`);
    }
  };
  walk(root);
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  writeFileSync(join(root, "DEBIAN", "md5sums"), `${md5.join("\n")}\n`);
  writeFileSync(join(root, "DEBIAN", "control"), [
    `Package: ${NAME}`,
    `Version: ${VERSION}`,
    `Architecture: ${debArch}`,
    `Maintainer: ${maintainer()}`,
    `Installed-Size: ${installedSizeKiB(root)}`,
    // Official Node 24 builds: glibc >= 2.28, libstdc++ GLIBCXX_3.4.21 (GCC 5), libgcc_s.
    "Depends: libc6 (>= 2.28), libstdc++6 (>= 5), libgcc-s1 | libgcc1",
    "Section: admin",
    "Priority: optional",
    `Description: ${PKG.description.split(":")[0]}`,
    ...wrap(PKG.description),
    " .",
    ...wrap(`Installs ${DEB_BIN_DIR}/${NAME}. To wire the kubelet, run sh ${DEB_SHARE_DIR}/node-config/install.sh --distro auto: it links the kit path to this executable, so an upgrade of this package updates what the kubelet runs; removing the package undoes that wiring first.`),
    "",
  ].join("\n"));
  writeFileSync(join(root, "DEBIAN", "prerm"), PRERM);
  writeFileSync(join(root, "DEBIAN", "postrm"), POSTRM);
  chmodSync(join(root, "DEBIAN", "control"), 0o644);
  chmodSync(join(root, "DEBIAN", "md5sums"), 0o644);
  chmodSync(join(root, "DEBIAN", "prerm"), 0o755);
  chmodSync(join(root, "DEBIAN", "postrm"), 0o755);
  normalise(root);
  const file = join(out, ARTIFACTS.deb(VERSION, arch));
  await sh(`dpkg-deb --root-owner-group -Zgzip -z6 --build ${q(root)} ${q(file)} >/dev/null`, { SOURCE_DATE_EPOCH: String(EPOCH) });
  return file;
}

/** dist/release/v<version>/linux/<arch>/ecr-credential-provider-linux-<arch> + .sha256 (bare hex). */
function urlLayout(arch, out) {
  const file = join(out, ARTIFACTS.urlExe(VERSION, arch));
  put(join(DIST, executableName(arch)), file, 0o755);
  writeFileSync(`${file}.sha256`, `${sha256(file)}\n`);
  return [file, `${file}.sha256`];
}

const INFO = existsSync(join(DIST, DIST_FILES.buildInfo)) ? JSON.parse(readFileSync(join(DIST, DIST_FILES.buildInfo), "utf8")) : undefined;
if (!INFO) fail(`${relative(ROOT, DIST)}/ is not built: run \`node build.mjs\` first (npm run release does both)`);
/** The version of the build being packaged (package.json's, unless --dist names a test build). */
const VERSION = INFO.version;
/** Windows targets (WINDOWS_TARGETS in build.mjs): all of them in a full release; with --targets, those the build has. */
const WINDOWS = opts.targets ? (INFO.windowsTargets ?? []) : Object.keys(WINDOWS_TARGETS);

/**
 * ecr-credential-provider-<version>-windows-amd64.zip: one top directory with the .exe, install.ps1,
 * node-config/wiring/windows/, LICENSE, README.md, the notices and SHA256SUMS of the rest.
 * Reproducible: sorted entries, mtimes = EPOCH (in UTC), no extra attributes, no directory entries.
 */
async function zipball(target, out, stage) {
  const t = WINDOWS_TARGETS[target];
  const top = `${NAME}-${VERSION}-${target}`;
  const dir = join(stage, `zip-${target}`, top);
  put(join(DIST, t.file), join(dir, `${NAME}.exe`), 0o755);
  const wiring = join(ROOT, "node-config", "wiring", "windows");
  put(wiring, join(dir, "node-config", "wiring", "windows"));
  put(join(wiring, "install.ps1"), join(dir, "install.ps1"), 0o644);
  for (const f of ["LICENSE", "README.md"]) put(join(ROOT, f), join(dir, f), 0o644);
  put(join(DIST, DIST_FILES.notices), join(dir, DIST_FILES.notices), 0o644);
  const files = [];
  const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) { const p = join(d, e.name); if (e.isDirectory()) walk(p); else files.push(relative(dir, p)); } };
  walk(dir);
  files.sort();
  // Get-FileHash / certutil on the node, or sha256sum -c after unzip.
  writeFileSync(join(dir, "SHA256SUMS"), files.map((f) => `${sha256(join(dir, f))}  ${f}`).join("\n") + "\n");
  normalise(dirname(dir));
  const file = join(out, `${top}.zip`);
  const list = ["SHA256SUMS", ...files].sort().map((f) => `${top}/${f}`).join("\n");
  await sh(`cd ${q(dirname(dir))} && printf '%s\\n' ${q(list)} | zip -q -X -D -6 ${q(file)} -@`, { TZ: "UTC" });
  return file;
}

/** dist/release/v<version>/windows/amd64/ecr-credential-provider-windows-amd64.exe + .sha256 (bare hex). */
function windowsUrlLayout(target, out) {
  const t = WINDOWS_TARGETS[target];
  const file = join(out, `v${VERSION}`, t.os, t.arch, `${NAME}-${t.os}-${t.arch}.exe`);
  put(join(DIST, t.file), file, 0o755);
  writeFileSync(`${file}.sha256`, `${sha256(file)}\n`);
  return [file, `${file}.sha256`];
}

async function release(out) {
  const info = INFO;
  const missing = TARGETS.filter((a) => !info.targets.includes(a));
  if (missing.length) fail(`dist/ has no ${missing.map((a) => `linux-${goArch(a)}`).join(", ")} build${info.hostOnly ? " (built with --host-only)" : ""}; a release needs every target (or pass --targets)`);
  if (!opts.dist && info.version !== PKG.version) fail(`dist/ holds ${info.version}, package.json says ${PKG.version}`);
  if (!info.useCodeCache) fail("dist/ was built with --no-code-cache; releases use the code cache");
  if (!WINDOWS.every((t) => info.windowsTargets?.includes(t))) fail("dist/ was built with --host-only or --skip-windows; a release needs the Windows executable");
  const check = spawnSync("sha256sum", ["--check", "--quiet", DIST_FILES.sums], { cwd: DIST, encoding: "utf8" });
  if (check.status !== 0) fail(`dist/SHA256SUMS does not match dist/: ${check.stdout}${check.stderr}`);

  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const stage = join(ROOT, ".cache", "release-stage", relative(DIST, out).replaceAll("/", "_") || "release");
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });

  const jobs = [];
  for (const arch of TARGETS) jobs.push(tarball(arch, out, stage), deb(arch, out, stage));
  for (const target of WINDOWS) jobs.push(zipball(target, out, stage));
  const files = [...(await Promise.all(jobs)), ...TARGETS.flatMap((a) => urlLayout(a, out)), ...WINDOWS.flatMap((t) => windowsUrlLayout(t, out))];
  const lines = files.map((f) => `${sha256(f)}  ${relative(out, f)}`).sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1));
  writeFileSync(join(out, "SHA256SUMS"), `${lines.join("\n")}\n`);
  rmSync(stage, { recursive: true, force: true });
  return lines;
}

const t0 = performance.now();
const out = resolve(opts["out-dir"] ?? join(DIST, "release"));
const lines = await release(out);
console.log(`release: ${NAME} ${VERSION}, SOURCE_DATE_EPOCH=${EPOCH} (${new Date(EPOCH * 1000).toISOString()})`);
for (const l of lines) {
  const f = join(out, l.slice(66));
  console.log(`  ${(statSync(f).size / 1e6).toFixed(1).padStart(6)} MB  ${relative(ROOT, f)}`);
}
console.log(`release: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

if (opts["verify-reproducible"]) {
  const other = join(DIST, "release-verify");
  const again = await release(other);
  rmSync(other, { recursive: true, force: true });
  const diff = lines.filter((l, i) => l !== again[i]);
  if (diff.length) { console.error(`release: NOT reproducible:\n${diff.join("\n")}`); process.exit(1); }
  console.log("release: verify-reproducible: second packaging is byte-identical");
}
