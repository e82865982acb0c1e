// The built executable trusts the node's trust store, as the Go plugin does: SSL_CERT_FILE and a hashed SSL_CERT_DIR name
// extra roots the way they do for Go and OpenSSL, the host's own store is found without them (the debug "trust store" line
// says which, and matches what src/aws/trust.ts finds on this machine), and a server certificate nothing vouches for is
// `tls_untrusted`, with advice an operator can act on (not Node's "run node with --use-system-ca").
// Linux only: the Windows executable keeps Node's bundled roots.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { startFakeAws, fakeAwsEnv, TEST_CA_FILE as CA, TEST_SERVER_TLS, type FakeAws } from "../helpers/fake-aws.ts";
import { BINARY, runBinary, request, type RunResult } from "../helpers/run-binary.ts";
import { have } from "../helpers/debian-root.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { chooseTrustStore, describeTrustStore } from "../../src/aws/trust.ts";

/** OpenSSL's subject hash of the test root CA (`openssl x509 -hash -noout -in root-ca.cert.pem`): its name in a hashed directory. */
const CA_SUBJECT_HASH = "00a4dbf9";
const IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app";

let fake: FakeAws;
before(async () => {
  fake = await startFakeAws({
    tls: TEST_SERVER_TLS(),
  });
});
after(async () => {
  await fake.close();
});

function env(extra: Record<string, string>): Record<string, string> {
  return fakeAwsEnv(fake, { ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1", ECR_CREDENTIAL_PROVIDER_LOG_LEVEL: "debug", ...extra });
}

function run(extra: Record<string, string>): Promise<RunResult> {
  return runBinary({ env: env(extra), stdin: request(IMAGE) });
}

/** The directories distributions keep their trust store in; hidden (empty tmpfs over them) for a node without one. */
const STORE_DIRS = ["/etc/ssl", "/etc/pki"].filter((d) => existsSync(d));

/** Run the executable in a private mount namespace where STORE_DIRS are empty: a minimal image without ca-certificates. */
function runWithoutSystemStore(extra: Record<string, string>): Promise<RunResult> {
  const hide = STORE_DIRS.map((d) => `mount -t tmpfs none ${d} || exit 90;`).join(" ");
  return new Promise((resolve, reject) => {
    const p = spawn("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", `${hide} exec "$0"`, BINARY], { env: env(extra) });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, ms: 0 }));
    p.stdin.end(request(IMAGE));
  });
}
const namespaceSkip = (process.getuid?.() !== 0 && "needs root (mount namespace)") || (!have("unshare") && "unshare (util-linux) missing") || false;

/** The fields of the run's debug "trust store" line. */
function trustLine(r: RunResult): Record<string, string> {
  const line = r.stderr.split("\n").find((l) => / debug: trust store /.test(l));
  assert.ok(line, `no trust store line in: ${r.stderr}`);
  return Object.fromEntries([...line.matchAll(/\b(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

describe("trust store", { skip: process.platform !== "linux" && "the Linux executable's store" }, () => {
  test("without SSL_CERT_* the executable finds this machine's own store, as trust.ts does", async () => {
    const r = await run({ NODE_EXTRA_CA_CERTS: CA });
    assert.equal(r.code, 0, r.stderr);
    const { roots: _roots, ...found } = trustLine(r);
    assert.deepEqual(found, describeTrustStore(chooseTrustStore({})));
  });

  test("SSL_CERT_DIR with the CA under its hashed name is trusted (no NODE_EXTRA_CA_CERTS)", async () => {
    const dir = tempDir("ecp-certdir-");
    copyFileSync(CA, join(dir, `${CA_SUBJECT_HASH}.0`));
    const r = await run({ SSL_CERT_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(trustLine(r)["dir"]?.split(":")[0], dir);
  });

  test(
    "`openssl rehash DIR` (doctor's fix for a directory without hashed names) names the CA as the executable looks it up",
    {
      skip: !have("openssl") && "no openssl command",
    },
    async () => {
      const dir = tempDir("ecp-rehash-");
      copyFileSync(CA, join(dir, "proxy-ca.pem"));
      const rehash = spawnSync("openssl", ["rehash", dir], { encoding: "utf8" });
      assert.equal(rehash.status, 0, rehash.stderr);
      assert.ok(existsSync(join(dir, `${CA_SUBJECT_HASH}.0`)), "the subject hash this file pins");
      const r = await run({ SSL_CERT_DIR: dir });
      assert.equal(r.code, 0, r.stderr);
    },
  );

  test("SSL_CERT_FILE naming the CA is trusted, as the Go plugin trusts it", async () => {
    const r = await run({ SSL_CERT_FILE: CA });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(trustLine(r)["file"], CA);
  });

  test("a certificate no store vouches for: tls_untrusted, exit 5, one attempt, advice for the node's trust store", async () => {
    const before = fake.ecrCalls().length;
    const r = await run({});
    assert.equal(r.code, 5, r.stderr);
    const line = r.stderr.split("\n").find((l) => /tls_untrusted: /.test(l));
    assert.ok(line, r.stderr);
    assert.match(line, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    assert.match(line, /update-ca-certificates/);
    assert.doesNotMatch(r.stderr, /--use-system-ca/);
    assert.equal(r.stderr.match(/ debug: AWS attempt /g)?.length, 1, "not retried");
    assert.equal(fake.ecrCalls().length, before, "the fake never saw a request");
  });

  test("a node without a system store (a minimal image): Node's bundled roots, NODE_EXTRA_CA_CERTS still added", { skip: namespaceSkip }, async () => {
    const r = await runWithoutSystemStore({ NODE_EXTRA_CA_CERTS: CA });
    assert.equal(r.code, 0, r.stderr);
    // Node's bundled roots (121 in Node 24) and the test CA, put in place by tls.setDefaultCACertificates.
    const { trustStore, roots } = trustLine(r);
    assert.equal(trustStore, "node-bundled");
    assert.ok(Number(roots) > 100, `roots=${roots}`);
    const bare = await runWithoutSystemStore({});
    assert.equal(bare.code, 5, bare.stderr);
    assert.match(bare.stderr, /tls_untrusted: /);
  });
});
