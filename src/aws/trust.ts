// Which certificate authorities a run trusts: the node's own trust store, like the Go plugin, the kubelet and containerd.
//
// On Linux the executable runs with Node's --use-openssl-ca (build.mjs), so OpenSSL's default paths decide, read from
// SSL_CERT_FILE and SSL_CERT_DIR when the first TLS context is made. This module sets them, before that, to the store
// the node has: its hashed certificate directory when it has one (update-ca-certificates and update-ca-trust keep it
// beside the bundle; OpenSSL reads only the one file a chain needs, so no run parses the whole store), else its bundle
// file (parsed whole, as Node parses its own), else nothing of the system's: Node's bundled Mozilla roots, as before.
// SSL_CERT_FILE / SSL_CERT_DIR set by the operator win, as they do for the Go plugin. NODE_EXTRA_CA_CERTS adds to any
// of these. The Windows executable runs with --use-system-ca instead: the Windows certificate store (LocalMachine and
// CurrentUser Root and CA) on top of Node's bundled roots, which stay because Windows fills its Root store on demand
// from Windows Update, which a process reading the store cannot trigger. Without either flag (tests under tsx, the
// build's warm-up) Node's bundled roots are used and this module changes nothing.

import { readdirSync, statSync } from "node:fs";
import * as tls from "node:tls";

/** The bundle files the Go plugin looks for, in its order (Go's crypto/x509 root_linux.go); the first that exists is used. */
export const BUNDLE_FILES: readonly string[] = [
  "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Gentoo
  "/etc/pki/tls/certs/ca-bundle.crt", // Fedora, RHEL 6, Amazon Linux
  "/etc/ssl/ca-bundle.pem", // OpenSUSE
  "/etc/pki/tls/cacert.pem", // OpenELEC
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7+
  "/etc/ssl/cert.pem", // Alpine
];

/** Directories that may hold the same certificates under OpenSSL's hashed names (`<subject hash>.<n>`). */
export const HASHED_DIRS: readonly string[] = [
  "/etc/ssl/certs", // Debian, Ubuntu (update-ca-certificates)
  "/etc/pki/ca-trust/extracted/pem/directory-hash", // Fedora (update-ca-trust)
  "/etc/pki/tls/certs",
];

/** The hashed name OpenSSL looks a certificate up by: eight hex digits of the subject's hash, a dot, a sequence number. */
export const HASHED_NAME = /^[0-9a-f]{8}\.[0-9]+$/;

export type TrustStore =
  /** SSL_CERT_FILE and/or SSL_CERT_DIR as the operator set them (a directory must be hashed, as OpenSSL reads it). */
  | { kind: "operator"; file?: string; dir?: string }
  /** The node's hashed directory: certificates are read one at a time, when a chain needs them. */
  | { kind: "system-hashed-dir"; dir: string }
  /** The node's bundle file, parsed whole at the first TLS context. */
  | { kind: "system-bundle"; file: string }
  /** No system store found (a minimal image or chroot): Node's bundled roots (`roots`: how many were put in place). */
  | { kind: "node-bundled"; roots?: number }
  /** Windows: the Windows certificate store and Node's bundled roots (--use-system-ca). */
  | { kind: "windows-store-and-node-bundled" };

export interface TrustProbe {
  isFile(path: string): boolean;
  /** Whether the directory exists and holds at least one certificate under a hashed name. */
  isHashedDir(path: string): boolean;
}

export const nodeTrustProbe: TrustProbe = {
  isFile: (p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  },
  isHashedDir: (p) => {
    try {
      return readdirSync(p).some((n) => HASHED_NAME.test(n));
    } catch {
      return false;
    }
  },
};

/**
 * The store to use, from SSL_CERT_FILE / SSL_CERT_DIR (as set, from Config) and what the node has. Pure but for the probe.
 * An operator's SSL_CERT_DIR alone replaces the directories but keeps the system's bundle, as Go does; kept lazy by
 * searching the system's hashed directory after theirs instead of parsing the bundle.
 */
export function chooseTrustStore(env: Readonly<{ SSL_CERT_FILE?: string; SSL_CERT_DIR?: string }>, probe: TrustProbe = nodeTrustProbe): TrustStore {
  const hashedDir = HASHED_DIRS.find((d) => probe.isHashedDir(d));
  const bundle = () => BUNDLE_FILES.find((f) => probe.isFile(f));
  const file = env.SSL_CERT_FILE || undefined;
  const dir = env.SSL_CERT_DIR || undefined;
  if (file && dir) return { kind: "operator", file, dir };
  if (file) return { kind: "operator", file, ...(hashedDir ? { dir: hashedDir } : {}) };
  if (dir) {
    if (hashedDir) return { kind: "operator", dir: `${dir}:${hashedDir}` };
    const bundleFile = bundle();
    return { kind: "operator", dir, ...(bundleFile ? { file: bundleFile } : {}) };
  }
  if (hashedDir) return { kind: "system-hashed-dir", dir: hashedDir };
  const found = bundle();
  return found ? { kind: "system-bundle", file: found } : { kind: "node-bundled" };
}

/** What a run needs to put a store in place: whether Node runs with --use-openssl-ca, and how to set a variable for OpenSSL. */
export interface TrustSeam {
  opensslCa: boolean;
  /** Node runs with --use-system-ca (the Windows executable). */
  systemCa?: boolean;
  setEnv(name: "SSL_CERT_FILE" | "SSL_CERT_DIR", value: string): void;
  probe?: TrustProbe;
}

/** OpenSSL's "no file": it reads no certificate from it and goes on to the directory. */
const NO_FILE = "/dev/null";

/**
 * Put the store in place before the run's first TLS context (OpenSSL reads the variables once, for the process-wide
 * root store). Returns the store in use, for the debug log.
 */
export function useTrustStore(env: Readonly<{ SSL_CERT_FILE?: string; SSL_CERT_DIR?: string }>, seam: TrustSeam | undefined): TrustStore {
  if (!seam?.opensslCa) return seam?.systemCa ? { kind: "windows-store-and-node-bundled" } : { kind: "node-bundled" };
  const store = chooseTrustStore(env, seam.probe);
  switch (store.kind) {
    case "operator":
    case "system-bundle":
    case "system-hashed-dir":
      seam.setEnv("SSL_CERT_FILE", ("file" in store && store.file) || NO_FILE);
      seam.setEnv("SSL_CERT_DIR", ("dir" in store && store.dir) || NO_FILE);
      break;
    case "node-bundled": {
      // --use-openssl-ca found nothing to read: Node's own roots, plus NODE_EXTRA_CA_CERTS as ever.
      const roots = [...tls.getCACertificates("bundled"), ...tls.getCACertificates("extra")];
      tls.setDefaultCACertificates(roots);
      return { kind: "node-bundled", roots: roots.length };
    }
  }
  return store;
}

/** One line for the debug log: `system-hashed-dir dir=/etc/ssl/certs`. */
export function describeTrustStore(store: TrustStore): Record<string, string> {
  return {
    trustStore: store.kind,
    ...("file" in store && store.file ? { file: store.file } : {}),
    ...("dir" in store && store.dir ? { dir: store.dir } : {}),
    ...("roots" in store && store.roots !== undefined ? { roots: String(store.roots) } : {}),
  };
}
