#!/usr/bin/env node
// Packages what build.mjs left in dist/ into dist/release/ (run `npm run release` = build + this):
//   ecr-credential-provider-<version>-linux-{x64,arm64}.tar.gz
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
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ARCHES, DIST_FILES, LIBS_DIR_NAME, NAME, executableName } from "../build.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const VERSION = PKG.version;
/** Where the .deb installs the executable; also the kubelet's --image-credential-provider-bin-dir. */
const DEB_BIN_DIR = "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec";
const DEB_SHARE_DIR = `/usr/share/${NAME}`;
/** Every target build.mjs knows; a release ships all of them. */
const TARGETS = Object.keys(ARCHES);

const { values: opts } = parseArgs({
  options: {
    "out-dir": { type: "string", default: join(DIST, "release") },
    "verify-reproducible": { type: "boolean", default: false },
  },
});
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

async function tarball(arch, out, stage) {
  const top = `${NAME}-${VERSION}-linux-${arch}`;
  const dir = join(stage, `tar-${arch}`, top);
  stageCommon(arch, dir);
  normalise(dirname(dir));
  const file = join(out, `${top}.tar.gz`);
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

function maintainer() {
  if (PKG.author) return typeof PKG.author === "string" ? PKG.author : `${PKG.author.name} <${PKG.author.email}>`;
  const r = spawnSync("git", ["log", "--reverse", "--format=%an <%ae>"], { cwd: ROOT, encoding: "utf8" });
  return r.stdout.split("\n")[0] || `${NAME} maintainers <root@localhost>`;
}

async function deb(arch, out, stage) {
  const debArch = ARCHES[arch].deb;
  const root = join(stage, `deb-${arch}`);
  const tmp = join(stage, `deb-${arch}-files`);
  stageCommon(arch, tmp);
  put(join(tmp, NAME), join(root, DEB_BIN_DIR, NAME), 0o755);
  if (existsSync(join(tmp, "node-config"))) put(join(tmp, "node-config"), join(root, DEB_SHARE_DIR, "node-config"));
  const doc = join(root, "usr", "share", "doc", NAME);
  put(join(ROOT, "LICENSE"), join(doc, "copyright"), 0o644);
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
    ` ${PKG.description}`,
    " .",
    ` Installs ${DEB_BIN_DIR}/${NAME}; point the kubelet's`,
    ` --image-credential-provider-bin-dir at ${DEB_BIN_DIR}. Example kubelet`,
    ` configuration and an installer are in ${DEB_SHARE_DIR}/node-config/.`,
    "",
  ].join("\n"));
  chmodSync(join(root, "DEBIAN", "control"), 0o644);
  chmodSync(join(root, "DEBIAN", "md5sums"), 0o644);
  normalise(root);
  const file = join(out, `${NAME}_${VERSION}_${debArch}.deb`);
  await sh(`dpkg-deb --root-owner-group -Zgzip -z6 --build ${q(root)} ${q(file)} >/dev/null`, { SOURCE_DATE_EPOCH: String(EPOCH) });
  return file;
}

/** dist/release/v<version>/linux/<arch>/ecr-credential-provider-linux-<arch> + .sha256 (bare hex). */
function urlLayout(arch, out) {
  const debArch = ARCHES[arch].deb;
  const dir = join(out, `v${VERSION}`, "linux", debArch);
  const file = join(dir, `${NAME}-linux-${debArch}`);
  put(join(DIST, executableName(arch)), file, 0o755);
  writeFileSync(join(dir, `${NAME}-linux-${debArch}.sha256`), `${sha256(file)}\n`);
  return [file, `${file}.sha256`];
}

async function release(out) {
  const info = existsSync(join(DIST, DIST_FILES.buildInfo)) ? JSON.parse(readFileSync(join(DIST, DIST_FILES.buildInfo), "utf8")) : undefined;
  if (!info) fail("dist/ is not built: run `node build.mjs` first (npm run release does both)");
  if (info.hostOnly || !TARGETS.every((a) => info.targets.includes(a))) fail("dist/ was built with --host-only; a release needs both architectures");
  if (info.version !== VERSION) fail(`dist/ holds ${info.version}, package.json says ${VERSION}`);
  if (!info.useCodeCache) fail("dist/ was built with --no-code-cache; releases use the code cache");
  const check = spawnSync("sha256sum", ["--check", "--quiet", DIST_FILES.sums], { cwd: DIST, encoding: "utf8" });
  if (check.status !== 0) fail(`dist/SHA256SUMS does not match dist/: ${check.stdout}${check.stderr}`);

  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const stage = join(ROOT, ".cache", "release-stage", relative(DIST, out).replaceAll("/", "_") || "release");
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });

  const jobs = [];
  for (const arch of TARGETS) jobs.push(tarball(arch, out, stage), deb(arch, out, stage));
  const files = [...(await Promise.all(jobs)), ...TARGETS.flatMap((a) => urlLayout(a, out))];
  const lines = files.map((f) => `${sha256(f)}  ${relative(out, f)}`).sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1));
  writeFileSync(join(out, "SHA256SUMS"), `${lines.join("\n")}\n`);
  rmSync(stage, { recursive: true, force: true });
  return lines;
}

const t0 = performance.now();
const out = opts["out-dir"];
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
