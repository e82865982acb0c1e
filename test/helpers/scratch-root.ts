// A scratch node root for install.sh/doctor --root: this machine's system library directories are
// linked into it, so doctor's runtime check sees the C runtime a real node has.
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

export function linkHostRuntime(root: string): void {
  for (const d of ["lib", "lib64", "usr/lib", "usr/lib64"]) {
    if (!existsSync(`/${d}`) || existsSync(join(root, d))) continue;
    mkdirSync(join(root, d, ".."), { recursive: true });
    symlinkSync(`/${d}`, join(root, d));
  }
}
