// The .deb in a Debian minbase chroot with dpkg: real metadata; install; wire the kubelet with the
// packaged install.sh (the kit path becomes a link to the packaged executable); upgrade to a newer
// build (rebuilt with a bumped version) and see the kubelet's executable report it; remove (the
// wiring it enabled is undone, the kubelet's env file is back to the package default); purge.
// Needs root, debootstrap and unshare (scripts/ci-deps.sh); the chroot is cached in .cache/debootstrap/.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { aptMirror, chrootSkip, DEB_ARCH, minbaseRoot, runInChroot, scratchRoot } from "../helpers/debian-root.ts";
import { bumpedBuild, localRelease, PLACEHOLDER, releaseSkip, REPO, VERSION, type LocalRelease } from "../helpers/release.ts";
import { buildRoot, scenarios, UNITS_DIR, type Scenario } from "../helpers/unit-roots.ts";

const NAME = "ecr-credential-provider";
const DEB_EXE = `/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/${NAME}`;
const KIT_EXE = `/opt/${NAME}/bin/${NAME}`;
const KIT_INSTALL = `/usr/share/${NAME}/node-config/install.sh`;
const NEXT = VERSION.replace(/(\d+)$/, (d) => String(Number(d) + 1));
/** The kubeadm DEB node of test/fixtures/units (packaged kubelet.service, 10-kubeadm.conf, /etc/default/kubelet), minus the OS release file the chroot has. */
const KUBEADM_NODE = ((s: Scenario): Scenario => ({ ...s, files: Object.fromEntries(Object.entries(s.files).filter(([p]) => p !== "/etc/debian_version")) }))(
  scenarios().find((s) => s.name === "kubeadm-deb")!,
);
const DEFAULT_KUBELET = readFileSync(join(UNITS_DIR, "files", KUBEADM_NODE.files["/etc/default/kubelet"] as string), "utf8");

let current: LocalRelease;
let next: LocalRelease;
let root: string;

const sh = (script: string) => runInChroot(root, "/bin/sh", ["-c", script]);
const ok = (script: string) => {
  const r = sh(script);
  assert.equal(r.status, 0, `${script}\nexit ${r.status}\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
};
const at = (p: string) => join(root, p);
const debOf = (rel: LocalRelease, v: string) => join(rel.dir, `${NAME}_${v}_${DEB_ARCH}.deb`);
const dpkgStatus = () => sh(`dpkg-query -W -f='\${Status} \${Version}' ${NAME}`).stdout;

const skip = releaseSkip() || chrootSkip();
describe(".deb with dpkg in a Debian minbase chroot", { skip, timeout: 900_000 }, () => {
  before(() => {
    current = localRelease("current");
    // A newer build: the same sources with the version bumped, as the next release would be.
    next = localRelease("next", bumpedBuild(NEXT));
    const { mirror, suite } = aptMirror();
    root = scratchRoot(minbaseRoot(suite, mirror), "deb", "copy");
    mkdirSync(at("/srv"), { recursive: true });
    copyFileSync(debOf(current, VERSION), at(`/srv/${NAME}_${VERSION}.deb`));
    copyFileSync(debOf(next, NEXT), at(`/srv/${NAME}_${NEXT}.deb`));
    copyFileSync(join(current.dir, `${NAME}-${VERSION}-linux-${DEB_ARCH}.tar.gz`), at(`/srv/${NAME}-${VERSION}-linux-${DEB_ARCH}.tar.gz`));
    // A kubeadm node as the DEB packages lay it out (real unit files; DEB packages use /etc/default/kubelet).
    buildRoot(KUBEADM_NODE, root);
  });
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("has real metadata: Maintainer is who built it (scripts/deb-maintainer.mjs), no placeholder, Depends on the C runtime", () => {
    const info = spawnSync("dpkg-deb", ["--field", debOf(current, VERSION)], { encoding: "utf8" }).stdout;
    const field = (k: string) => new RegExp(`^${k}: (.*)$`, "m").exec(info)?.[1];
    assert.equal(field("Package"), NAME);
    assert.equal(field("Version"), VERSION);
    assert.equal(field("Architecture"), DEB_ARCH);
    const builder = spawnSync(process.execPath, [join(REPO, "scripts", "deb-maintainer.mjs")], { encoding: "utf8" });
    assert.equal(field("Maintainer"), builder.stdout.trim());
    assert.match(field("Maintainer") ?? "", /^[^<>@]+ <[^<>@\s]+@[^<>@\s]+>$/);
    assert.doesNotMatch(info, PLACEHOLDER);
    assert.match(field("Depends") ?? "", /libc6 \(>= 2\.28\)/);
  });

  it("install: dpkg -i puts the executable, docs and node kit in place; it runs there", () => {
    ok(`dpkg -i /srv/${NAME}_${VERSION}.deb`);
    assert.match(dpkgStatus(), new RegExp(`^install ok installed ${VERSION.replaceAll(".", "\\.")}$`));
    assert.match(ok(`${DEB_EXE} --version`), new RegExp(`${NAME} ${VERSION.replaceAll(".", "\\.")}`));
    for (const f of [KIT_INSTALL, `/usr/share/doc/${NAME}/copyright`, `/usr/share/doc/${NAME}/changelog.Debian.gz`]) assert.ok(existsSync(at(f)), f);
  });

  it("the packaged install.sh wires the kubelet to the packaged executable (the kit path links to it)", () => {
    const out = ok(`sh ${KIT_INSTALL} --distro kubeadm`);
    assert.match(out, /packaged/);
    assert.ok(lstatSync(at(KIT_EXE)).isSymbolicLink(), `${KIT_EXE} is not a link`);
    assert.equal(readlinkSync(at(KIT_EXE)), DEB_EXE);
    assert.match(readFileSync(at("/etc/default/kubelet"), "utf8"), /--image-credential-provider-bin-dir=\/opt\/ecr-credential-provider\/bin/);
  });

  it("install.sh refuses to put a second, unpackaged copy beside the package (apt would never update it)", () => {
    const r = sh(`sh ${KIT_INSTALL} --distro kubeadm --release /srv/${NAME}-${VERSION}-linux-${DEB_ARCH}.tar.gz`);
    assert.equal(r.status, 64, r.stdout + r.stderr); // EX_USAGE
    assert.match(r.stderr, /package .*installed/);
    assert.equal(readlinkSync(at(KIT_EXE)), DEB_EXE);
  });

  it(`upgrade to ${NEXT}: what the kubelet runs is the new build`, () => {
    ok(`dpkg -i /srv/${NAME}_${NEXT}.deb`);
    assert.match(dpkgStatus(), new RegExp(`^install ok installed ${NEXT.replaceAll(".", "\\.")}$`));
    assert.match(ok(`${KIT_EXE} --version`), new RegExp(`${NAME} ${NEXT.replaceAll(".", "\\.")}`));
    // The wiring survives the upgrade untouched.
    assert.equal(readlinkSync(at(KIT_EXE)), DEB_EXE);
    assert.match(readFileSync(at("/etc/default/kubelet"), "utf8"), /--image-credential-provider-config=/);
  });

  it("remove: the wiring the package enabled is undone, so the kubelet never points at a missing executable", () => {
    mkdirSync(at(`/var/cache/${NAME}`), { recursive: true, mode: 0o700 });
    writeFileSync(at(`/var/cache/${NAME}/token`), "{}");
    const out = ok(`dpkg -r ${NAME}`);
    assert.match(out, /install\.sh --uninstall|uninstall/);
    assert.ok(!existsSync(at(DEB_EXE)), DEB_EXE);
    assert.ok(!existsSync(at(KIT_EXE)) && !isLink(at(KIT_EXE)), KIT_EXE);
    assert.equal(readFileSync(at("/etc/default/kubelet"), "utf8"), DEFAULT_KUBELET, "the package default, byte for byte");
    assert.ok(!existsSync(at(`/etc/${NAME}`)), `/etc/${NAME} left behind`);
    assert.ok(existsSync(at(`/var/cache/${NAME}/token`)), "remove keeps the token cache (purge deletes it)");
  });

  it("purge: nothing of the package is left", () => {
    ok(`dpkg -P ${NAME}`);
    assert.equal(sh(`dpkg-query -W ${NAME}`).status, 1);
    for (const p of [
      `/var/cache/${NAME}`,
      `/var/lib/${NAME}`,
      `/usr/share/${NAME}`,
      `/usr/share/doc/${NAME}`,
      "/usr/libexec/kubernetes/kubelet-plugins/credential-provider",
    ]) {
      assert.ok(!existsSync(at(p)), `${p} left behind`);
    }
  });
});

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
