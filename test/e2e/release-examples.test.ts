// The node-config examples, end to end, against a local copy of the release: cloud-init user data
// (kubeadm, k3s, EKS AL2023 MIME), the Packer provisioner and the kops additionalUserData script run
// unchanged with real curl/tar/sh inside a scratch node (an overlay of this machine, see
// helpers/overlay-root.ts). They download from a loopback HTTP server holding `scripts/release.mjs`
// output (RELEASE_URL, the one knob the examples expose), or take it from /tmp as Packer's file
// provisioner leaves it. Then the result is judged as the kubelet would see it: doctor --offline with
// the kubelet's flags as systemd/nodeadm would pass them, the installed config is the shipped one,
// and nothing is left in /tmp.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { overlayRoot, overlaySkip, type OverlayRoot } from "../helpers/overlay-root.ts";
import { HOST_ARCH, localRelease, releaseSkip, REPO, VERSION, type LocalRelease } from "../helpers/release.ts";

const KIT = join(REPO, "node-config");
const SCRATCH = join(REPO, ".cache", "examples");
const EXE = "/opt/ecr-credential-provider/bin/ecr-credential-provider";
const TARBALL = `ecr-credential-provider-${VERSION}-linux-${HOST_ARCH}.tar.gz`;

// kubeadm packages (kubernetes/release cmd/krel/templates/latest/{kubelet/kubelet.service,kubeadm/10-kubeadm.conf},
// DEB build: /etc/sysconfig/kubelet -> /etc/default/kubelet; kubelet/kubelet.env), see docs distros.md §2.
const KUBEADM_NODE: Record<string, string> = {
  "/usr/lib/systemd/system/kubelet.service":
    "[Unit]\nDescription=kubelet: The Kubernetes Node Agent\nDocumentation=https://kubernetes.io/docs/\nWants=network-online.target\nAfter=network-online.target\n\n[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\nStartLimitInterval=0\nRestartSec=10\n\n[Install]\nWantedBy=multi-user.target\n",
  "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf":
    '# Note: This dropin only works with kubeadm and kubelet v1.11+\n[Service]\nEnvironment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"\nEnvironment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"\n# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\n# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use\n# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.\nEnvironmentFile=-/etc/default/kubelet\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n',
  "/etc/default/kubelet": "KUBELET_EXTRA_ARGS=\n",
};
// kops nodeup (kubernetes/kops nodeup/pkg/model/kubelet.go buildSystemdService/buildSystemdEnvironmentFile), distros.md §11.
const KOPS_NODE: Record<string, string> = {
  "/lib/systemd/system/kubelet.service":
    '[Unit]\nDescription=Kubernetes Kubelet Server\nDocumentation=https://github.com/kubernetes/kubernetes\nAfter=containerd.service\n\n[Service]\nEnvironmentFile=/etc/sysconfig/kubelet\nExecStart=/usr/local/bin/kubelet "$DAEMON_ARGS"\nRestart=always\nRestartSec=2s\nStartLimitInterval=0\nKillMode=process\nUser=root\nCPUAccounting=true\nMemoryAccounting=true\n',
  "/etc/sysconfig/kubelet":
    'DAEMON_ARGS="--config=/var/lib/kubelet/kubelet.conf --kubeconfig=/var/lib/kubelet/kubeconfig --image-credential-provider-config=/var/lib/kubelet/credential-provider.conf --image-credential-provider-bin-dir=/usr/local/bin"\nHOME="/root"\n',
};
/** Stands in for https://get.k3s.io (no internet here): fails unless the credential provider is installed before k3s starts. */
const CURL_WITH_K3S_STANDIN = `#!/bin/sh
for a in "$@"; do
  case $a in https://get.k3s.io*)
    cat <<'EOS'
#!/bin/sh
[ -x /var/lib/rancher/credentialprovider/bin/ecr-credential-provider ] && [ -f /var/lib/rancher/credentialprovider/config.yaml ] || { echo "k3s would start without the credential provider" >&2; exit 1; }
echo "k3s installer stand-in ran with: $*" > /var/log/k3s-installer-standin
EOS
    exit 0 ;;
  esac
done
exec /usr/bin/curl "$@"
`;

let release: LocalRelease;
let server: Server;
let releaseUrl: string;
const roots: OverlayRoot[] = [];

const skip = releaseSkip() || (await overlaySkip(SCRATCH));

function seed(root: OverlayRoot, files: Record<string, string>): void {
  for (const [node, text] of Object.entries(files)) {
    // On a merged-/usr host /lib is a link to usr/lib; a real lib/ in the upper layer would hide it.
    const p = node.startsWith("/lib/") && lstatSync("/lib").isSymbolicLink() ? `/usr${node}` : node;
    mkdirSync(join(root.upper, p, ".."), { recursive: true });
    writeFileSync(join(root.upper, p), text);
  }
}

/** The shell part of a multi-part MIME user data, or the `content` of a kops additionalUserData entry. */
function mimeShellPart(file: string): string {
  const text = readFileSync(file, "utf8");
  const part = text.split(/^--\/\/(?:--)?$/m).find((p) => /Content-Type: text\/x-shellscript/.test(p));
  assert.ok(part, `no shell part in ${file}`);
  return part.slice(part.indexOf("#!/bin/sh"));
}

/**
 * Runs `doctor --offline` inside the scratch node with the kubelet's flags read from `flagsFile`: no
 * fail, and no warn except those `expectedWarn` names (kops: nodeup's own flags stay, ours come last).
 */
async function assertKubeletWouldRun(root: OverlayRoot, flagsFile: string, expectedWarn?: RegExp): Promise<string> {
  const r = await root.run(`${EXE} doctor --offline --kubelet-flags ${flagsFile}`);
  assert.equal(r.status, 0, `doctor failed:\n${r.stdout}${r.stderr}`);
  const noisy = r.stdout.split("\n").filter((l) => /^(warn|fail)\b/.test(l) && !(expectedWarn && expectedWarn.test(l)));
  assert.deepEqual(noisy, [], r.stdout);
  assert.match(r.stdout, /^ok\s+kubelet-flags: .*--image-credential-provider-config=/m);
  return r.stdout;
}

/** `systemctl cat kubelet` for the unit files of the scratch node (unit, then drop-ins in name order). */
async function systemctlCat(root: OverlayRoot): Promise<string> {
  // Unit from the first directory that has it; drop-ins by name, a name in a higher directory masking lower ones.
  const script = `{ for d in /etc/systemd/system /run/systemd/system /usr/lib/systemd/system /lib/systemd/system; do if [ -f $d/kubelet.service ]; then cat $d/kubelet.service; break; fi; done
  ls -1 /etc/systemd/system/kubelet.service.d/*.conf /run/systemd/system/kubelet.service.d/*.conf /usr/lib/systemd/system/kubelet.service.d/*.conf /lib/systemd/system/kubelet.service.d/*.conf 2>/dev/null |
    awk -F/ '!seen[$NF]++ { print $NF "\t" $0 }' | sort | cut -f2 | while read -r f; do cat "$f"; done; } > /root/kubelet.cat`;
  const r = await root.run(script);
  assert.equal(r.status, 0, r.stderr);
  return "/root/kubelet.cat";
}

function assertShippedConfig(root: OverlayRoot, path: string): void {
  const installed = readFileSync(join(root.upper, path), "utf8");
  const shipped = spawnSync("sh", [join(KIT, "install.sh"), "--print-config"], { encoding: "utf8" }).stdout;
  assert.equal(installed, shipped, `${path} is not the shipped config`);
  // install.sh's config is node-config/credential-provider-config.yaml, which test/kubelet/shipped_test.go feeds to the kubelet's own code.
  assert.deepEqual(parse(installed), parse(readFileSync(join(KIT, "credential-provider-config.yaml"), "utf8")));
}

function assertTmpClean(root: OverlayRoot): void {
  const left = existsSync(join(root.upper, "tmp")) ? readdirSync(join(root.upper, "tmp")) : [];
  assert.deepEqual(left, [], "the example leaves files in /tmp");
}

function newRoot(label: string): OverlayRoot {
  const r = overlayRoot(SCRATCH, label);
  roots.push(r);
  return r;
}

describe("node-config examples, end to end against a local release", { skip, timeout: 900_000 }, () => {
  before(async () => {
    release = localRelease("current");
    server = createServer((req, res) => {
      const name = decodeURIComponent((req.url ?? "").replace(/^\/releases\//, ""));
      const file = join(release.dir, name);
      if (!req.url?.startsWith("/releases/") || name.includes("..") || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const addr = server.address();
    releaseUrl = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/releases`;
  });
  after(async () => {
    for (const r of roots) r.remove();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it("every example pins the version the release makes", () => {
    for (const f of [
      "examples/cloud-init/kubeadm-user-data.sh",
      "examples/cloud-init/k3s-user-data.sh",
      "examples/cloud-init/al2023-user-data.mime",
      "examples/packer/provision.sh",
      "wiring/kops/instance-group-additional-user-data.yaml",
    ]) {
      assert.match(readFileSync(join(KIT, f), "utf8"), new RegExp(`^\\s*VERSION=${VERSION.replaceAll(".", "\\.")}$`, "m"), f);
    }
  });

  it("cloud-init kubeadm: KUBELET_EXTRA_ARGS in /etc/default/kubelet carries the two flags; the kubelet's argv has them", async () => {
    const root = newRoot("kubeadm");
    seed(root, KUBEADM_NODE);
    const r = await root.run(readFileSync(join(KIT, "examples/cloud-init/kubeadm-user-data.sh"), "utf8"), { RELEASE_URL: releaseUrl });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /verified sha256 of/);
    assert.match(
      readFileSync(join(root.upper, "etc/default/kubelet"), "utf8"),
      /^KUBELET_EXTRA_ARGS=--image-credential-provider-config=\/etc\/ecr-credential-provider\/credential-provider-config.yaml --image-credential-provider-bin-dir=\/opt\/ecr-credential-provider\/bin$/m,
    );
    assertShippedConfig(root, "etc/ecr-credential-provider/credential-provider-config.yaml");
    assertTmpClean(root);
    await assertKubeletWouldRun(root, await systemctlCat(root));
  });

  it("cloud-init k3s: the files are in k3s' default paths before the k3s installer runs", async () => {
    const root = newRoot("k3s");
    seed(root, { "/usr/local/bin/curl": CURL_WITH_K3S_STANDIN });
    chmodSync(join(root.upper, "usr/local/bin/curl"), 0o755);
    const r = await root.run(readFileSync(join(KIT, "examples/cloud-init/k3s-user-data.sh"), "utf8"), { RELEASE_URL: releaseUrl });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(readFileSync(join(root.upper, "var/log/k3s-installer-standin"), "utf8"), /ran with: agent/);
    assertShippedConfig(root, "var/lib/rancher/credentialprovider/config.yaml");
    assertTmpClean(root);
    // k3s passes exactly these two flags to its kubelet when both paths exist (distros.md §8).
    seed(root, {
      "/root/k3s-kubelet-args":
        "--image-credential-provider-config=/var/lib/rancher/credentialprovider/config.yaml --image-credential-provider-bin-dir=/var/lib/rancher/credentialprovider/bin\n",
    });
    const out = await root.run("/var/lib/rancher/credentialprovider/bin/ecr-credential-provider doctor --offline --kubelet-flags /root/k3s-kubelet-args");
    assert.equal(out.status, 0, out.stdout + out.stderr);
    assert.deepEqual(
      out.stdout.split("\n").filter((l) => /^(warn|fail)\b/.test(l)),
      [],
      out.stdout,
    );
  });

  it("cloud-init EKS AL2023 (MIME): the shell part installs; its NodeConfig part and nodeadm.d carry the same flags", async () => {
    const root = newRoot("al2023");
    const mime = join(KIT, "examples/cloud-init/al2023-user-data.mime");
    const r = await root.run(mimeShellPart(mime), { RELEASE_URL: releaseUrl });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const dropIn = parse(readFileSync(join(root.upper, "etc/eks/nodeadm.d/50-ecr-credential-provider.yaml"), "utf8"));
    const nodeConfigPart = readFileSync(mime, "utf8")
      .split(/^--\/\/$/m)
      .find((p) => /application\/node\.eks\.aws/.test(p))!;
    const fromMime = parse(nodeConfigPart.slice(nodeConfigPart.indexOf("apiVersion:")));
    assert.deepEqual(fromMime.spec.kubelet.flags, dropIn.spec.kubelet.flags);
    assertShippedConfig(root, "etc/ecr-credential-provider/credential-provider-config.yaml");
    assertTmpClean(root);
    await assertKubeletWouldRun(root, "/etc/eks/nodeadm.d/50-ecr-credential-provider.yaml");
  });

  for (const distro of ["eks-al2023", "kubeadm"]) {
    it(`Packer provisioner (DISTRO=${distro}): bakes from the files uploaded to /tmp, checks them with doctor, cleans /tmp`, async () => {
      const root = newRoot(`packer-${distro}`);
      if (distro === "kubeadm") seed(root, KUBEADM_NODE);
      mkdirSync(join(root.upper, "tmp"), { recursive: true, mode: 0o1777 });
      for (const f of [TARBALL, "SHA256SUMS"]) copyFileSync(join(release.dir, f), join(root.upper, "tmp", f));
      const r = await root.run(readFileSync(join(KIT, "examples/packer/provision.sh"), "utf8"), { DISTRO: distro });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^ok\s+config:/m);
      assertShippedConfig(root, "etc/ecr-credential-provider/credential-provider-config.yaml");
      assertTmpClean(root);
      await assertKubeletWouldRun(root, distro === "kubeadm" ? await systemctlCat(root) : "/etc/eks/nodeadm.d/50-ecr-credential-provider.yaml");
    });
  }

  it("kops additionalUserData: the drop-in re-issues nodeup's ExecStart with our two flags last", async () => {
    const root = newRoot("kops");
    seed(root, KOPS_NODE);
    const ig = parse(readFileSync(join(KIT, "wiring/kops/instance-group-additional-user-data.yaml"), "utf8"));
    const part = ig.spec.additionalUserData.find((p: { type: string }) => p.type === "text/x-shellscript");
    const r = await root.run(part.content, { RELEASE_URL: releaseUrl });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // Our drop-in (whatever install.sh names it) re-states nodeup's ExecStart with the two flags after it.
    const dropIns = join(root.upper, "etc/systemd/system/kubelet.service.d");
    const ours = readdirSync(dropIns)
      .map((f) => readFileSync(join(dropIns, f), "utf8"))
      .filter((t) => t.includes("ecr-credential-provider"));
    assert.equal(ours.length, 1, `expected one drop-in of ours in ${dropIns}`);
    assert.match(ours[0]!, /ExecStart=\/usr\/local\/bin\/kubelet .*--image-credential-provider-bin-dir=\/opt\/ecr-credential-provider\/bin/);
    assertShippedConfig(root, "etc/ecr-credential-provider/credential-provider-config.yaml");
    assertTmpClean(root);
    // nodeup's DAEMON_ARGS keep its own two flags; ours come after them and the kubelet takes the last.
    const out = await assertKubeletWouldRun(
      root,
      await systemctlCat(root),
      /^warn\s+kubelet-flags: --image-credential-provider-(config|bin-dir) is given 2 times; the last one \(\/(etc|opt)\/ecr-credential-provider\//,
    );
    assert.match(out, /^ok\s+kubelet-flags: .*--image-credential-provider-bin-dir=\/opt\/ecr-credential-provider\/bin/m);
  });
});
