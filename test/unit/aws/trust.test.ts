// Which trust store a run uses (src/aws/trust.ts), on the layouts distributions ship: the choice, and what is set for OpenSSL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BUNDLE_FILES, HASHED_DIRS, chooseTrustStore, useTrustStore, type TrustProbe } from "../../../src/aws/trust.ts";

/** A node's file system as far as the trust store goes: bundle files that exist, directories with hashed names. */
function layout(files: string[], hashedDirs: string[]): TrustProbe {
  return { isFile: (p) => files.includes(p), isHashedDir: (p) => hashedDirs.includes(p) };
}

// Debian and Ubuntu (update-ca-certificates): the bundle and the hashed /etc/ssl/certs beside it.
const DEBIAN = layout(["/etc/ssl/certs/ca-certificates.crt"], ["/etc/ssl/certs"]);
// A bundle-only layout (update-ca-trust without directory-hash; whether Amazon Linux 2023 is one was not checked).
const BUNDLE_ONLY = layout(["/etc/pki/tls/certs/ca-bundle.crt", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"], []);
// Fedora / RHEL 9+ with update-ca-trust's directory-hash.
const FEDORA = layout(["/etc/pki/tls/certs/ca-bundle.crt"], ["/etc/pki/ca-trust/extracted/pem/directory-hash"]);
// A minimal image or chroot without ca-certificates.
const BARE = layout([], []);

const cases: [string, Record<string, string>, TrustProbe, unknown][] = [
  ["Debian: the hashed directory, read one certificate at a time", {}, DEBIAN, { kind: "system-hashed-dir", dir: "/etc/ssl/certs" }],
  [
    "bundles only (update-ca-trust without directory-hash): the first in the Go plugin's order",
    {},
    BUNDLE_ONLY,
    { kind: "system-bundle", file: "/etc/pki/tls/certs/ca-bundle.crt" },
  ],
  ["Fedora: update-ca-trust's directory-hash", {}, FEDORA, { kind: "system-hashed-dir", dir: "/etc/pki/ca-trust/extracted/pem/directory-hash" }],
  ["no system store: Node's bundled roots", {}, BARE, { kind: "node-bundled" }],
  [
    "SSL_CERT_FILE and SSL_CERT_DIR: as set",
    { SSL_CERT_FILE: "/x/ca.pem", SSL_CERT_DIR: "/x/certs" },
    DEBIAN,
    { kind: "operator", file: "/x/ca.pem", dir: "/x/certs" },
  ],
  [
    "SSL_CERT_FILE alone: that file, and the system's hashed directory (Go reads its directories too)",
    { SSL_CERT_FILE: "/x/ca.pem" },
    DEBIAN,
    { kind: "operator", file: "/x/ca.pem", dir: "/etc/ssl/certs" },
  ],
  ["SSL_CERT_FILE alone, no hashed directory", { SSL_CERT_FILE: "/x/ca.pem" }, BUNDLE_ONLY, { kind: "operator", file: "/x/ca.pem" }],
  [
    "SSL_CERT_DIR alone: that directory, then the system's hashed one (Go keeps the bundle)",
    { SSL_CERT_DIR: "/x/certs" },
    DEBIAN,
    { kind: "operator", dir: "/x/certs:/etc/ssl/certs" },
  ],
  [
    "SSL_CERT_DIR alone, no hashed directory: the bundle stays",
    { SSL_CERT_DIR: "/x/certs" },
    BUNDLE_ONLY,
    { kind: "operator", dir: "/x/certs", file: "/etc/pki/tls/certs/ca-bundle.crt" },
  ],
  ["an empty SSL_CERT_FILE counts as unset", { SSL_CERT_FILE: "" }, DEBIAN, { kind: "system-hashed-dir", dir: "/etc/ssl/certs" }],
];
for (const [what, env, probe, want] of cases) {
  test(`chooseTrustStore: ${what}`, () => assert.deepEqual(chooseTrustStore(env, probe), want));
}

/** useTrustStore with a recording seam. */
function applied(env: Record<string, string>, probe: TrustProbe, opensslCa = true) {
  const set: Record<string, string> = {};
  const store = useTrustStore(env, { opensslCa, setEnv: (k, v) => (set[k] = v), probe });
  return { store, set };
}

test("useTrustStore: on a hashed directory no bundle is read (SSL_CERT_FILE is OpenSSL's empty /dev/null)", () => {
  assert.deepEqual(applied({}, DEBIAN).set, { SSL_CERT_FILE: "/dev/null", SSL_CERT_DIR: "/etc/ssl/certs" });
});

test("useTrustStore: a bundle is read whole and no directory is searched", () => {
  assert.deepEqual(applied({}, BUNDLE_ONLY).set, { SSL_CERT_FILE: "/etc/pki/tls/certs/ca-bundle.crt", SSL_CERT_DIR: "/dev/null" });
});

test("useTrustStore: the operator's variables are passed on as chosen", () => {
  assert.deepEqual(applied({ SSL_CERT_DIR: "/x/certs" }, DEBIAN).set, { SSL_CERT_FILE: "/dev/null", SSL_CERT_DIR: "/x/certs:/etc/ssl/certs" });
});

test("useTrustStore: without --use-openssl-ca (Windows, tsx) nothing is set and Node's bundled roots are in use", () => {
  const { store, set } = applied({ SSL_CERT_FILE: "/x/ca.pem" }, DEBIAN, false);
  assert.deepEqual(store, { kind: "node-bundled" });
  assert.deepEqual(set, {});
});

test("useTrustStore: under --use-system-ca (the Windows executable) the Windows store and Node's roots, nothing set", () => {
  const set: Record<string, string> = {};
  const store = useTrustStore({}, { opensslCa: false, systemCa: true, setEnv: (k, v) => (set[k] = v), probe: DEBIAN });
  assert.deepEqual(store, { kind: "windows-store-and-node-bundled" });
  assert.deepEqual(set, {});
});

test("README's TLS trust store section names the hashed directories, then the bundle files, in the order trust.ts tries them", () => {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  // The numbered list of where the store comes from, up to its last item (Node's own roots).
  const section = readme.slice(readme.indexOf("### TLS trust store"), readme.indexOf("4. None of these"));
  const named = [...section.matchAll(/`(\/etc\/[^`]+)`/g)].map((m) => m[1]);
  const wanted = [...HASHED_DIRS, ...BUNDLE_FILES];
  assert.deepEqual(
    named.filter((p) => wanted.includes(p!)),
    wanted,
  );
});
