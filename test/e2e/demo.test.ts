// `npm run demo` as a new user runs it, output to a pipe: it succeeds, writes no terminal escape
// codes, does not build the benchmark's trivial executable, and leaves nothing in $TMPDIR.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { binaryAvailable } from "../helpers/run-binary.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const ROOT = join(import.meta.dirname, "..", "..");

test(
  "npm run demo: no escape codes on a pipe, no trivial SEA, nothing left in TMPDIR",
  { skip: !binaryAvailable() && "dist/ecr-credential-provider is not built", timeout: 120_000 },
  () => {
    const tmp = tempDir("demo-tmpdir-");
    // Without the variable package.json sets for tsx; npm's own compile cache (npm 11 on Node ≥ 22 writes
    // $TMPDIR/node-compile-cache before any script runs) is npm's, not the demo's, and is turned off.
    const { TSX_DISABLE_CACHE: _, ...env } = process.env;
    const r = spawnSync("npm", ["run", "--silent", "demo"], {
      cwd: ROOT,
      env: { ...env, TMPDIR: tmp, NODE_DISABLE_COMPILE_CACHE: "1" },
      encoding: "utf8",
      timeout: 110_000,
    });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /China \(Ningxia\)/);
    assert.ok(!r.stdout.includes("\x1b") && !r.stderr.includes("\x1b"), "escape codes written to a pipe");
    assert.doesNotMatch(r.stdout + r.stderr, /--with-trivial|trivial-sea/, "the demo builds only what it runs");
    assert.deepEqual(readdirSync(tmp), [], "the demo left files in TMPDIR");
  },
);
