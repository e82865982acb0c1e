// Checks what build.mjs left in dist/: right ELF machine per file, SHA256SUMS, NODE_OPTIONS
// ignored, arm64 runs under qemu, trivial SEA present when asked for. Never builds: run
// `npm run build` first (CI does). Without dist/ the suite is skipped, or fails when CI is set.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { tempDir } from "../helpers/temp-dir.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const DIST = join(ROOT, "dist");
const NAME = "ecr-credential-provider";
const HOST = process.arch === "arm64" ? "arm64" : "x64";
const ELF_MACHINE = { x64: 62, arm64: 183 } as const; // EM_X86_64, EM_AARCH64
const QEMU = { x64: ["qemu-x86_64-static", "/usr/x86_64-linux-gnu"], arm64: ["qemu-aarch64-static", "/usr/aarch64-linux-gnu"] } as const;

interface BuildInfo {
  version: string;
  commit: string;
  targets: ("x64" | "arm64")[];
  windowsTargets?: string[];
  hostOnly: boolean;
  withTrivial: boolean;
  useCodeCache: boolean;
}
const infoFile = join(DIST, "build-info.json");
const info: BuildInfo | undefined = existsSync(infoFile) ? JSON.parse(readFileSync(infoFile, "utf8")) : undefined;
if (!info && process.env.CI) throw new Error("dist/build-info.json missing: CI must run `npm run build` before `npm test`");
const skip = info ? false : "dist/ is not built: run `npm run build` first";

/** e_machine of an ELF file (little-endian header), or undefined if it is not ELF. */
function elfMachine(file: string): { cls: number; machine: number } | undefined {
  const fd = openSync(file, "r");
  try {
    const h = Buffer.alloc(20);
    readSync(fd, h, 0, 20, 0);
    if (h.readUInt32BE(0) !== 0x7f454c46) return undefined;
    assert.equal(h[5], 1, "expected a little-endian ELF");
    assert.equal(h.readUInt16LE(16), 2, "expected ET_EXEC (e_type 2)");
    return { cls: h[4]!, machine: h.readUInt16LE(18) };
  } finally {
    closeSync(fd);
  }
}

/** An environment that makes a run load the lazy half and fail fast at a closed port (no fake needed). */
function lazyProbeEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "x",
    AWS_ENDPOINT_URL_ECR: "http://127.0.0.1:1",
    ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1",
    ECR_CREDENTIAL_PROVIDER_TIMEOUT: "5s",
  };
}

function exec(argv: string[], env: NodeJS.ProcessEnv = { PATH: process.env.PATH }, input = "") {
  const r = spawnSync(argv[0]!, argv.slice(1), { env, input, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
const runner = (arch: "x64" | "arm64") => (arch === HOST ? [] : [QEMU[arch][0], "-L", QEMU[arch][1]]);
const haveQemu = (arch: "x64" | "arm64") =>
  arch === HOST || (spawnSync("sh", ["-c", `command -v ${QEMU[arch][0]}`]).status === 0 && existsSync(join(QEMU[arch][1], "lib")));

describe("dist/ produced by build.mjs", { skip }, () => {
  const targets = info?.targets ?? [];

  it("records a build of this package version", (t) => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    assert.equal(info!.version, pkg.version);
    const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
    if (head && head !== info!.commit)
      t.diagnostic(`dist/ was built from ${info!.commit.slice(0, 12)}, HEAD is ${head.slice(0, 12)}: rebuild for current results`);
    assert.ok(info!.useCodeCache, "release builds use the V8 code cache");
  });

  for (const arch of ["x64", "arm64"] as const) {
    it(`has an executable ${arch} ELF for e_machine ${ELF_MACHINE[arch]}`, (t) => {
      if (!targets.includes(arch)) return t.skip(`built with --host-only: no ${arch} executable`);
      const file = join(DIST, `${NAME}-linux-${arch}`);
      assert.ok(existsSync(file), `${file} missing`);
      assert.equal(statSync(file).mode & 0o777, 0o755);
      assert.deepEqual(elfMachine(file), { cls: 2, machine: ELF_MACHINE[arch] });
    });
  }

  it("has the windows-amd64 .exe: PE32+ x86-64 console, signature removed, NODE_SEA_BLOB resource, fuse flipped", (t) => {
    if (!info!.windowsTargets?.includes("windows-amd64")) return t.skip("built with --host-only or --skip-windows");
    const b = readFileSync(join(DIST, `${NAME}-windows-amd64.exe`));
    assert.equal(b.toString("latin1", 0, 2), "MZ");
    const pe = b.readUInt32LE(0x3c);
    assert.equal(b.toString("latin1", pe, pe + 4), "PE\0\0");
    assert.equal(b.readUInt16LE(pe + 4), 0x8664, "IMAGE_FILE_MACHINE_AMD64");
    const opt = pe + 24;
    assert.equal(b.readUInt16LE(opt), 0x20b, "PE32+");
    assert.equal(b.readUInt16LE(opt + 68), 3, "IMAGE_SUBSYSTEM_WINDOWS_CUI (console: the kubelet's pipes)");
    // Data directory 4 (certificate table): emptied by osslsigncode remove-signature.
    assert.equal(b.readUInt32LE(opt + 112 + 4 * 8 + 4), 0, "no Authenticode signature left (it would no longer match)");
    assert.ok(b.includes(Buffer.from("NODE_SEA_BLOB", "utf16le")), "no NODE_SEA_BLOB resource name");
    assert.ok(b.includes("NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1"), "SEA fuse not flipped");
  });

  it("has dist/ecr-credential-provider identical to this machine's architecture", () => {
    const a = readFileSync(join(DIST, NAME));
    const b = readFileSync(join(DIST, `${NAME}-linux-${HOST}`));
    assert.ok(a.equals(b));
    assert.equal(statSync(join(DIST, NAME)).mode & 0o777, 0o755);
  });

  it("has a SHA256SUMS that matches every file it lists and lists every executable", () => {
    const lines = readFileSync(join(DIST, "SHA256SUMS"), "utf8").trimEnd().split("\n");
    const listed = new Set<string>();
    for (const line of lines) {
      const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
      assert.ok(m, `not sha256sum format: ${line}`);
      const actual = createHash("sha256")
        .update(readFileSync(join(DIST, m[2]!)))
        .digest("hex");
      assert.equal(actual, m[1], `checksum of ${m[2]}`);
      listed.add(m[2]!);
    }
    for (const arch of targets) assert.ok(listed.has(`${NAME}-linux-${arch}`));
    for (const target of info!.windowsTargets ?? []) assert.ok(listed.has(`${NAME}-${target}.exe`));
    assert.ok(listed.has(NAME));
    // sha256sum -c agrees (the format users will check with)
    const r = spawnSync("sha256sum", ["--check", "--quiet", "SHA256SUMS"], { cwd: DIST, encoding: "utf8" });
    if (!r.error) assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it("ignores NODE_OPTIONS (execArgvExtension none): a --require'd file never runs", () => {
    const dir = tempDir("ecp-inject-");
    try {
      const marker = join(dir, "ran");
      const payload = join(dir, "x.js");
      writeFileSync(payload, `require("fs").writeFileSync(${JSON.stringify(marker)}, "injected"); console.log("INJECTED");\n`);
      const control = exec([process.execPath, "-e", "0"], { PATH: process.env.PATH, NODE_OPTIONS: `--require=${payload}` });
      assert.match(control.stdout, /INJECTED/, "control: plain node must honour NODE_OPTIONS, or this test proves nothing");
      rmSync(marker, { force: true });
      for (const args of [["--version"], []]) {
        const r = exec([join(DIST, NAME), ...args], { PATH: process.env.PATH, NODE_OPTIONS: `--require=${payload}` });
        assert.equal(existsSync(marker), false, `x.js ran (args ${args.join(" ")})`);
        assert.doesNotMatch(r.stdout + r.stderr, /INJECTED/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("accepts both halves' embedded code caches (made by build.mjs, flag hashes patched)", (t) => {
    if (!info!.useCodeCache) return t.skip("built with --no-code-cache");
    const r = exec([join(DIST, NAME), "check", "--log-level=debug", "--output=json", "123456789012.dkr.ecr.us-east-1.amazonaws.com/x"], lazyProbeEnv(), "");
    assert.match(r.stderr, /lazyCodeCache=accepted/, r.stderr);
    assert.match(r.stderr, /startCodeCache=accepted/, r.stderr);
  });

  it("starts without a 'Code cache data rejected' warning", () => {
    const r = exec([join(DIST, NAME), "--version"]);
    assert.doesNotMatch(r.stderr, /Code cache data rejected/);
    assert.doesNotMatch(r.stderr, /ExperimentalWarning|single executable/i);
  });

  for (const arch of ["x64", "arm64"] as const) {
    if (arch === HOST) continue;
    it(`runs the ${arch} executable under qemu`, (t) => {
      if (!targets.includes(arch)) return t.skip(`built with --host-only: no ${arch} executable`);
      if (!haveQemu(arch)) return t.skip(`${QEMU[arch][0]} or ${QEMU[arch][1]} missing: run scripts/ci-deps.sh`);
      const r = exec([...runner(arch), join(DIST, `${NAME}-linux-${arch}`), "--version"]);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /Code cache data rejected/);
      t.diagnostic(`stdout: ${JSON.stringify(r.stdout.trim().slice(0, 80))}`);
    });

    it(`loads the lazy half (the embedded AWS SDK asset) in the ${arch} executable under qemu`, (t) => {
      if (!targets.includes(arch)) return t.skip(`built with --host-only: no ${arch} executable`);
      if (!haveQemu(arch)) return t.skip(`${QEMU[arch][0]} or ${QEMU[arch][1]} missing: run scripts/ci-deps.sh`);
      // A closed port: the run must get as far as the SDK's network call, so the asset loaded and ran.
      const request = JSON.stringify({
        apiVersion: "credentialprovider.kubelet.k8s.io/v1",
        kind: "CredentialProviderRequest",
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/x",
      });
      const env = {
        PATH: process.env.PATH ?? "/usr/bin",
        AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY: "x",
        AWS_ENDPOINT_URL_ECR: "http://127.0.0.1:1",
        ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1",
        ECR_CREDENTIAL_PROVIDER_TIMEOUT: "5s",
      };
      const r = exec([...runner(arch), join(DIST, `${NAME}-linux-${arch}`)], env, request);
      assert.equal(r.status, 5, r.stderr);
      assert.match(r.stderr, /^ecr-credential-provider: network: ECR GetAuthorizationToken in us-east-1/);
    });

    it(`accepts both halves' embedded code caches in the ${arch} executable under qemu`, (t) => {
      if (!targets.includes(arch)) return t.skip(`built with --host-only: no ${arch} executable`);
      if (!haveQemu(arch)) return t.skip(`${QEMU[arch][0]} or ${QEMU[arch][1]} missing: run scripts/ci-deps.sh`);
      const r = exec(
        [...runner(arch), join(DIST, `${NAME}-linux-${arch}`), "check", "--log-level=debug", "--output=json", "123456789012.dkr.ecr.us-east-1.amazonaws.com/x"],
        lazyProbeEnv(),
        "",
      );
      assert.match(r.stderr, /lazyCodeCache=accepted/, r.stderr);
      assert.match(r.stderr, /startCodeCache=accepted/, r.stderr);
    });
  }

  for (const name of ["trivial-sea", "https-post-sea"]) {
    it(`has the benchmark's ${name} when built with --with-trivial`, (t) => {
      const file = join(DIST, "bench", name);
      if (!info!.withTrivial) return t.skip("not built with --with-trivial");
      assert.deepEqual(elfMachine(file), { cls: 2, machine: ELF_MACHINE[HOST] });
      const request = JSON.stringify({
        apiVersion: "credentialprovider.kubelet.k8s.io/v1",
        kind: "CredentialProviderRequest",
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1",
      });
      const r = exec([file], { PATH: process.env.PATH }, request);
      assert.equal(r.status, 0, r.stderr);
      const response = JSON.parse(r.stdout);
      assert.equal(response.kind, "CredentialProviderResponse");
      assert.equal(response.apiVersion, "credentialprovider.kubelet.k8s.io/v1");
    });
  }
});
