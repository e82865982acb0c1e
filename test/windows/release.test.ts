// The Windows part of dist/release/ (scripts/release.mjs): the zip's layout and checksums, the URL
// layout, the release SHA256SUMS. Run after `npm run release` (CI does); skips without it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
const REL = join(ROOT, "dist", "release");
const TOP = `ecr-credential-provider-${VERSION}-windows-amd64`;
const ZIP = join(REL, `${TOP}.zip`);
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const skip = existsSync(ZIP) ? false : "no dist/release/*-windows-amd64.zip: run npm run release";

describe("Windows release artifacts", { skip }, () => {
  it("zips one top directory with the .exe, install.ps1, the Windows wiring, LICENSE, README, notices and SHA256SUMS, sorted", () => {
    const names = spawnSync("unzip", ["-Z1", ZIP], { encoding: "utf8" }).stdout.trim().split("\n");
    assert.deepEqual(names, [...names].sort(), "entries sorted");
    assert.ok(
      names.every((n) => n.startsWith(`${TOP}/`)),
      "one top directory",
    );
    for (const f of [
      "ecr-credential-provider.exe",
      "install.ps1",
      "LICENSE",
      "README.md",
      "THIRD-PARTY-NOTICES.txt",
      "SHA256SUMS",
      "node-config/wiring/windows/credential-provider-config.json",
      "node-config/wiring/windows/install.ps1",
    ]) {
      assert.ok(names.includes(`${TOP}/${f}`), `${f} missing from the zip`);
    }
    assert.ok(!names.some((n) => /linux|\.sh$|\.deb$/.test(n)), "nothing of the Linux kit");
  });

  it("holds the built .exe and a SHA256SUMS that matches every other file; the URL layout has the same .exe", () => {
    const dir = mkdtempSync(join(tmpdir(), "ecp-zip-"));
    try {
      assert.equal(spawnSync("unzip", ["-q", ZIP, "-d", dir]).status, 0);
      const top = join(dir, TOP);
      const exe = readFileSync(join(top, "ecr-credential-provider.exe"));
      assert.ok(exe.equals(readFileSync(join(ROOT, "dist", "ecr-credential-provider-windows-amd64.exe"))));
      const r = spawnSync("sha256sum", ["--check", "--quiet", "SHA256SUMS"], { cwd: top, encoding: "utf8" });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const url = join(REL, `v${VERSION}`, "windows", "amd64", "ecr-credential-provider-windows-amd64.exe");
      assert.ok(readFileSync(url).equals(exe));
      assert.equal(readFileSync(`${url}.sha256`, "utf8"), `${sha256(exe)}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lists the zip and the URL-layout files in dist/release/SHA256SUMS", () => {
    const sums = readFileSync(join(REL, "SHA256SUMS"), "utf8");
    for (const f of [
      `${TOP}.zip`,
      `v${VERSION}/windows/amd64/ecr-credential-provider-windows-amd64.exe`,
      `v${VERSION}/windows/amd64/ecr-credential-provider-windows-amd64.exe.sha256`,
    ]) {
      assert.match(sums, new RegExp(`^[0-9a-f]{64}  ${f.replaceAll(".", "\\.")}$`, "m"));
    }
  });
});
