// The doctor's `trust-store` check: which certificates the plugin will trust on this node (aws/trust.ts decides the same way),
// and the settings that would not do what an operator meant (a file that is not there, a directory without hashed names).
import { BUNDLE_FILES, HASHED_DIRS, HASHED_NAME, chooseTrustStore } from "../aws/trust.ts";
import type { DoctorFs, Finding } from "./types.ts";

const CHECK = "trust-store";

/**
 * @param env the variables the plugin would see for SSL_CERT_FILE, SSL_CERT_DIR and NODE_EXTRA_CA_CERTS: the provider
 * entry's `env`, else the doctor's own (the kubelet passes its environment on).
 */
export async function trustStoreFindings(
  fs: DoctorFs,
  at: (p: string) => string,
  env: Readonly<Record<string, string | undefined>>,
  windows = false,
): Promise<Finding[]> {
  const isFile = async (p: string) => (await fs.stat(at(p)).catch(() => undefined))?.isFile() ?? false;
  const extra: Finding[] =
    env.NODE_EXTRA_CA_CERTS && !(await isFile(env.NODE_EXTRA_CA_CERTS))
      ? [{ status: "warn", check: CHECK, message: `NODE_EXTRA_CA_CERTS=${env.NODE_EXTRA_CA_CERTS} is not a file: Node warns and ignores it` }]
      : [];
  if (windows) {
    const message = "the Windows certificate store (Root and CA of LocalMachine and CurrentUser) and Node's bundled roots";
    return [{ status: "ok", check: CHECK, message }, ...extra];
  }
  const hashed = async (d: string) => (await fs.readdir(at(d)).catch(() => [] as string[])).some((n) => HASHED_NAME.test(n));
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const f of BUNDLE_FILES) if (await isFile(f)) files.add(f);
  for (const d of HASHED_DIRS) if (await hashed(d)) dirs.add(d);
  const trustEnv = {
    ...(env.SSL_CERT_FILE ? { SSL_CERT_FILE: env.SSL_CERT_FILE } : {}),
    ...(env.SSL_CERT_DIR ? { SSL_CERT_DIR: env.SSL_CERT_DIR } : {}),
  };
  const store = chooseTrustStore(trustEnv, { isFile: (p) => files.has(p), isHashedDir: (d) => dirs.has(d) });
  const out: Finding[] = [];
  switch (store.kind) {
    case "system-hashed-dir":
      out.push({ status: "ok", check: CHECK, message: `the node's hashed directory ${store.dir} (read as chains need it)` });
      break;
    case "system-bundle":
      out.push({ status: "ok", check: CHECK, message: `the node's bundle ${store.file} (no hashed directory: parsed whole on every cold run)` });
      break;
    case "operator":
      out.push({ status: "ok", check: CHECK, message: `SSL_CERT_FILE / SSL_CERT_DIR: ${[store.file, store.dir].filter(Boolean).join(", ")}` });
      break;
    case "node-bundled":
      out.push({
        status: "warn",
        check: CHECK,
        message: `no trust store on this node (none of ${[...HASHED_DIRS, ...BUNDLE_FILES].join(", ")}): the plugin trusts Node's bundled roots, and a CA added for a proxy only through NODE_EXTRA_CA_CERTS`,
        fix: "install the distribution's ca-certificates package",
      });
  }
  if (trustEnv.SSL_CERT_FILE && !(await isFile(trustEnv.SSL_CERT_FILE)))
    out.push({ status: "warn", check: CHECK, message: `SSL_CERT_FILE=${trustEnv.SSL_CERT_FILE} is not a file: nothing is read from it` });
  for (const d of trustEnv.SSL_CERT_DIR?.split(":").filter(Boolean) ?? []) {
    if (!(await hashed(d)))
      out.push({
        status: "warn",
        check: CHECK,
        message: `SSL_CERT_DIR names ${d}, which holds no certificate under a hashed name (<hash>.0): OpenSSL finds none there`,
        fix: `openssl rehash ${d}`,
      });
  }
  return [...out, ...extra];
}
