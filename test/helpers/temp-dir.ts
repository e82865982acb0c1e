// Temporary directories for tests, removed when the test process exits (pass or fail), so
// `npm test` leaves nothing in $TMPDIR. Each test file runs in its own process.

import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** A fresh directory under $TMPDIR named `<prefix>XXXXXX`; removed at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Remove `dir`, giving back write permission first where a test took it away (non-root runs). */
export function removeTree(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    const open = (p: string) => {
      try {
        const st = statSync(p);
        if (!st.isDirectory()) return;
        chmodSync(p, 0o700);
        for (const n of readdirSync(p)) open(join(p, n));
      } catch {
        // gone or not ours: rmSync below reports nothing either way
      }
    };
    open(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

process.on("exit", () => {
  for (const dir of made.splice(0)) {
    try {
      removeTree(dir);
    } catch {
      // a mount still busy: never fail a test run over cleanup
    }
  }
});
