// Talos: `install.sh --distro talos --root ./ext` into an empty directory builds the system extension
// tree, and the executable in it runs where Talos runs it: the kubelet container, siderolabs/kubelet
// on registry.k8s.io/build-image/debian-base:bookworm (Debian 12 slim with bash, e2fsprogs, ncurses
// and tzdata purged; glibc 2.36, libstdc++6, libgcc-s1), which sees only
// /usr/local/lib/kubelet/credentialproviders of the extension. Sources: siderolabs/kubelet Dockerfile
// @7128711f; kubernetes/release images/build/debian-base/bookworm/Dockerfile.build.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { aptMirror, chrootSkip, minbaseRoot, runInChroot, scratchRoot } from "../helpers/debian-root.ts";
import { BINARY, binaryAvailable } from "../helpers/run-binary.ts";

const REPO = join(import.meta.dirname, "..", "..");
const EXT_BIN = "/usr/local/lib/kubelet/credentialproviders";
/** What debian-base:bookworm purges from debian:bookworm-slim (Dockerfile.build). */
const DEBIAN_BASE_PURGED = ["bash", "e2fsprogs", "libss2", "libcom-err2", "libext2fs2", "logsave", "ncurses-base", "ncurses-bin", "tzdata"];

let work: string;
let ext: string;
before(() => {
  mkdirSync(join(REPO, ".cache"), { recursive: true });
  work = mkdtempSync(join(REPO, ".cache", "talos-"));
  ext = join(work, "ext");
  mkdirSync(ext);
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("Talos system extension", { skip: !binaryAvailable() && `${BINARY} missing: run npm run build` }, () => {
  it("install.sh --distro talos --root <empty dir> builds the extension tree (no C runtime expected in it)", () => {
    const r = spawnSync("sh", [join(REPO, "node-config", "install.sh"), "--distro", "talos", "--root", ext, "--binary", BINARY], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /validated/);
    const exe = join(ext, "rootfs", EXT_BIN, "ecr-credential-provider");
    assert.equal(statSync(exe).mode & 0o777, 0o755);
    const manifest = parse(readFileSync(join(ext, "manifest.yaml"), "utf8"));
    assert.equal(manifest.version, "v1alpha1");
    assert.ok(manifest.metadata.name && manifest.metadata.version && manifest.metadata.compatibility.talos.version);
    // Only /usr/local is an allowed extension path here (Talos pkg/machinery/extensions AllowedPaths).
    assert.deepEqual(readdirSync(join(ext, "rootfs")), ["usr"]);
    assert.deepEqual(readdirSync(join(ext, "rootfs", "usr")), ["local"]);
    const patch = parse(readFileSync(join(ext, "machine-config-patch.yaml"), "utf8"));
    assert.equal(patch.machine.kubelet.credentialProviderConfig.kind, "CredentialProviderConfig");
    assert.doesNotMatch(
      readFileSync(join(ext, "manifest.yaml"), "utf8") + readFileSync(join(REPO, "node-config/wiring/talos/extension/manifest.yaml"), "utf8"),
      /static build/,
    );
  });

  it("install.sh checks the runtime of the Talos kubelet image, not of the machine that builds the extension", () => {
    // A build host whose C runtime could not run the executable (getconf stands in for an old glibc):
    // doctor's own-host check would warn about it; the Talos profile (glibc 2.36) must not.
    const fake = join(work, "old-glibc-host");
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, "getconf"), "#!/bin/sh\necho 'glibc 2.17'\n", { mode: 0o755 });
    const env = { ...process.env, PATH: `${fake}:${process.env.PATH}` };
    const install = (distro: string, root: string) =>
      spawnSync("sh", [join(REPO, "node-config", "install.sh"), "--distro", distro, "--root", root, "--binary", BINARY], { encoding: "utf8", env });
    // Control: without the Talos profile the fake host runtime is what doctor sees.
    const host = install("k3s", join(work, "k3s-root"));
    assert.equal(host.status, 0, host.stdout + host.stderr);
    assert.match(host.stdout, /^warning: runtime: glibc 2\.17 is older than 2\.28/m);
    const talos = install("talos", join(work, "ext-old-glibc-host"));
    assert.equal(talos.status, 0, talos.stdout + talos.stderr);
    assert.doesNotMatch(talos.stdout, /^warning: runtime:/m, "install.sh --distro talos checked this machine's runtime instead of the Talos kubelet image's");
    assert.match(talos.stdout, /validated/);
  });

  it("the extension's executable runs in the Talos kubelet image, and doctor there is quiet", { skip: chrootSkip(), timeout: 900_000 }, (t) => {
    const { mirror, suite } = aptMirror();
    if (suite !== "bookworm") t.diagnostic(`this machine's suite is ${suite}; Talos' kubelet image is bookworm`);
    const root = scratchRoot(minbaseRoot("bookworm", mirror), "talos-kubelet", "copy");
    try {
      const purge = runInChroot(root, "/usr/bin/dpkg", ["--purge", "--force-remove-essential", "--force-depends", ...DEBIAN_BASE_PURGED]);
      assert.equal(purge.status, 0, purge.stdout + purge.stderr);
      assert.ok(!existsSync(join(root, "bin/bash")), "bash should be gone, as in debian-base");
      // The kubelet image adds ca-certificates to debian-base (RUNTIME_PROFILES.talos): this bookworm machine's copy of it.
      for (const d of ["etc/ssl/certs", "usr/share/ca-certificates"]) {
        assert.ok(existsSync(`/${d}`), `/${d} is missing on this machine: install ca-certificates`);
        mkdirSync(join(root, d, ".."), { recursive: true });
        cpSync(`/${d}`, join(root, d), { recursive: true, verbatimSymlinks: true });
      }
      // Talos bind-mounts the extension's credentialproviders directory and writes the config here.
      cpSync(join(ext, "rootfs", EXT_BIN), join(root, EXT_BIN), { recursive: true });
      const cfg = parse(readFileSync(join(ext, "machine-config-patch.yaml"), "utf8")).machine.kubelet.credentialProviderConfig;
      mkdirSync(join(root, "etc/kubernetes"), { recursive: true });
      writeFileSync(join(root, "etc/kubernetes/kubelet-credentialproviderconfig.yaml"), stringify(cfg));
      const version = runInChroot(root, `${EXT_BIN}/ecr-credential-provider`, ["--version"]);
      assert.equal(version.status, 0, version.stderr);
      const doctor = runInChroot(root, `${EXT_BIN}/ecr-credential-provider`, [
        "doctor",
        "--offline",
        "--config",
        "/etc/kubernetes/kubelet-credentialproviderconfig.yaml",
        "--bin-dir",
        EXT_BIN,
        "--kubelet-flags",
        "none",
      ]);
      assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);
      assert.deepEqual(
        doctor.stdout.split("\n").filter((l) => /^(warn|fail)\b/.test(l)),
        [],
        doctor.stdout,
      );
      t.diagnostic(
        doctor.stdout
          .split("\n")
          .filter((l) => /runtime/.test(l))
          .join("\n"),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
