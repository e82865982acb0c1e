// The token cache's Windows paths, exercised on any OS: rename retries on sharing errors, and the
// cache directory created through icacls (a stand-in script here) or not at all.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTokenCache, renameWithRetries } from "../../../src/cache/token-cache.ts";
import type { Logger } from "../../../src/core/log.ts";

const sharing = (code: string) => Object.assign(new Error(code), { code });

describe("renameWithRetries", () => {
  it("on Windows, retries EPERM/EBUSY/EACCES until the reader lets go", async () => {
    const codes = ["EPERM", "EBUSY", "EACCES"];
    let calls = 0;
    await renameWithRetries("a", "b", true, () => {
      if (calls < codes.length) throw sharing(codes[calls++]!);
      calls++;
    });
    assert.equal(calls, 4);
  });
  it("on Windows, gives up after 6 attempts so the run still answers in time", async () => {
    let calls = 0;
    await assert.rejects(
      renameWithRetries("a", "b", true, () => {
        calls++;
        throw sharing("EBUSY");
      }),
      /EBUSY/,
    );
    assert.equal(calls, 6);
  });
  it("never retries on POSIX, nor other errors on Windows", async () => {
    for (const [windows, code] of [
      [false, "EPERM"],
      [true, "ENOSPC"],
    ] as const) {
      let calls = 0;
      await assert.rejects(
        renameWithRetries("a", "b", windows, () => {
          calls++;
          throw sharing(code);
        }),
      );
      assert.equal(calls, 1);
    }
  });
});

describe("openTokenCache with windowsIcacls", () => {
  const warnings: string[] = [];
  const log = { warn: (m: string) => warnings.push(m), debug: () => undefined, addSecret: () => undefined } as unknown as Logger;
  const open = (dir: string, icacls: string) =>
    openTokenCache({
      dir,
      log,
      now: () => new Date(),
      signal: new AbortController().signal,
      pid: process.pid,
      isAlive: () => true,
      random: () => 0.5,
      windowsIcacls: icacls,
    });

  it("creates the directory only once icacls restricted it, leaving no temporary directory", async () => {
    const base = mkdtempSync(join(tmpdir(), "ecp-wincache-"));
    try {
      const icacls = join(base, "icacls-ok");
      writeFileSync(join(base, "args"), "");
      writeFileSync(icacls, `#!/bin/sh\nprintf '%s\\n' "$@" > ${JSON.stringify(join(base, "args"))}\n`, { mode: 0o755 });
      const dir = join(base, "data", "cache");
      assert.ok(await open(dir, icacls));
      assert.deepEqual(readdirSync(join(base, "data")), ["cache"]);
      const args = (await import("node:fs")).readFileSync(join(base, "args"), "utf8").trim().split("\n");
      assert.match(args[0]!, /cache\.\d+\.tmp$/, "the ACL is set on the temporary name, before the directory appears");
      assert.deepEqual(args.slice(1), ["/inheritance:r", "/grant:r", "*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F"]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it("runs without a cache (one warning) rather than with a readable one when icacls fails", async () => {
    const base = mkdtempSync(join(tmpdir(), "ecp-wincache-"));
    try {
      const icacls = join(base, "icacls-fail");
      writeFileSync(icacls, "#!/bin/sh\nexit 5\n", { mode: 0o755 });
      warnings.length = 0;
      assert.equal(await open(join(base, "data", "cache"), icacls), undefined);
      assert.equal(existsSync(join(base, "data", "cache")), false);
      assert.deepEqual(readdirSync(join(base, "data")), [], "no temporary directory left");
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /token cache disabled/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
