// A scratch node root for install.sh/doctor --root: this machine's system library directories are
// linked into it, so doctor's runtime check sees the C runtime a real node has; and its trust store,
// so doctor's trust-store check sees the certificate store a real node has.
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

export function linkHostRuntime(root: string): void {
  for (const d of ["lib", "lib64", "usr/lib", "usr/lib64"]) {
    if (!existsSync(`/${d}`) || existsSync(join(root, d))) continue;
    mkdirSync(join(root, d, ".."), { recursive: true });
    symlinkSync(`/${d}`, join(root, d));
  }
}

/** Links this machine's /etc/ssl and /etc/pki (whichever exist) into `root`: the trust store doctor reads under --root. */
export function linkHostTrustStore(root: string): void {
  for (const d of ["etc/ssl", "etc/pki"]) {
    if (!existsSync(`/${d}`) || existsSync(join(root, d))) continue;
    mkdirSync(join(root, d, ".."), { recursive: true });
    symlinkSync(`/${d}`, join(root, d));
  }
}
