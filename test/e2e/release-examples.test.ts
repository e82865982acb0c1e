// The node-config examples, end to end, against a local copy of the release: cloud-init user data
// (kubeadm, k3s, EKS AL2023 MIME), the Packer provisioner and the kops additionalUserData script run
// unchanged with real curl/tar/sh inside a scratch node (an overlay of this machine, see
// helpers/overlay-root.ts). They download from a loopback HTTP server holding `scripts/release.mjs`
// output (RELEASE_URL, the one knob the examples expose), or take it from /tmp as Packer's file
// provisioner leaves it. Each scratch node starts from the real unit files of its platform
// (test/fixtures/units/scenarios.json, provenance in its README). Then the result is judged as the
// kubelet would see it: doctor --offline with the kubelet's flags as systemd/nodeadm would pass them,
// the installed config is the shipped one, and nothing is left in /tmp.
// With EXAMPLE_ROOTS_OUT=<dir>, each example's resulting root is moved to <dir>/<name> and listed in
// <dir>/manifest.json: test/kubelet/examples_test.go (npm run test:conformance) runs this file that
// way and parses the argv systemd would run from those roots with the kubelet's own flag parser.
import assert from "node:assert/strict";
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, chmodSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { overlayRoot, overlaySkip, type OverlayRoot } from "../helpers/overlay-root.ts";
import { buildRoot, scenarios } from "../helpers/unit-roots.ts";
import { HOST_ARCH, localRelease, releaseSkip, REPO, VERSION, type LocalRelease } from "../helpers/release.ts";

const KIT = join(REPO, "node-config");
const SCRATCH = join(REPO, ".cache", "examples");
const EXE = "/opt/ecr-credential-provider/bin/ecr-credential-provider";
const TARBALL = `ecr-credential-provider-${VERSION}-linux-${HOST_ARCH}.tar.gz`;

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

// On a merged-/usr host /lib is a link to usr/lib; a real lib/ in the upper layer would hide it.
const nodePath = (node: string) => (node.startsWith("/lib/") && lstatSync("/lib").isSymbolicLink() ? `/usr${node}` : node);

function seed(root: OverlayRoot, files: Record<string, string>): void {
  for (const [node, text] of Object.entries(files)) {
    mkdirSync(join(root.upper, nodePath(node), ".."), { recursive: true });
    writeFileSync(join(root.upper, nodePath(node)), text);
  }
}

/** Seed the node with a unit scenario of test/fixtures/units (the files its platform ships). */
function seedScenario(root: OverlayRoot, name: string): void {
  const s = scenarios().find((x) => x.name === name);
  assert.ok(s, `no unit scenario ${name}`);
  buildRoot(s, root.upper, nodePath);
}

/** What test/kubelet/examples_test.go needs to judge a root: how the kubelet gets its flags there. */
interface KeptRoot {
  name: string;
  /** systemd: the unit's ExecStart carries them; nodeadm: an /etc/eks/nodeadm.d NodeConfig; k3s: k3s passes its two default paths. */
  wiring: "systemd" | "nodeadm" | "k3s";
  /** The test/fixtures/units scenario the node started from (the root before the example ran). */
  scenario?: string;
  unit?: string;
  root?: string;
}
const KEEP = process.env.EXAMPLE_ROOTS_OUT;
const kept: KeptRoot[] = [];

/** With EXAMPLE_ROOTS_OUT: move the example's result (the overlay's upper layer) there for the Go harness. */
function keep(root: OverlayRoot, entry: KeptRoot): void {
  if (!KEEP) return;
  const dest = join(KEEP, entry.name);
  try {
    renameSync(root.upper, dest);
  } catch {
    cpSync(root.upper, dest, { recursive: true, verbatimSymlinks: true });
  }
  kept.push({ ...entry, root: dest });
}

/** The shell part of a multi-part MIME user data, or the `content` of a kops additionalUserData entry. */
function mimeShellPart(file: string): string {
  const text = readFileSync(file, "utf8");
  const part = text.split(/^--\/\/(?:--)?$/m).find((p) => /Content-Type: text\/x-shellscript/.test(p));
  assert.ok(part, `no shell part in ${file}`);
  return part.slice(part.indexOf("#!/bin/sh"));
}

/** Runs `doctor --offline` inside the scratch node with the kubelet's flags read from `flagsFile`: no fail, no warn. */
async function assertKubeletWouldRun(root: OverlayRoot, flagsFile: string): Promise<string> {
  const r = await root.run(`${EXE} doctor --offline --kubelet-flags ${flagsFile}`);
  assert.equal(r.status, 0, `doctor failed:\n${r.stdout}${r.stderr}`);
  const noisy = r.stdout.split("\n").filter((l) => /^(warn|fail)\b/.test(l));
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
    if (KEEP) writeFileSync(join(KEEP, "manifest.json"), `${JSON.stringify({ examples: kept }, null, 2)}\n`);
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
    seedScenario(root, "kubeadm-deb");
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
    keep(root, { name: "cloud-init-kubeadm", wiring: "systemd", scenario: "kubeadm-deb", unit: "kubelet.service" });
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
    keep(root, { name: "cloud-init-k3s", wiring: "k3s" });
  });

  it("cloud-init EKS AL2023 (MIME): the shell part installs; its NodeConfig part and nodeadm.d carry the same flags", async () => {
    const root = newRoot("al2023");
    seedScenario(root, "eks-al2023");
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
    keep(root, { name: "cloud-init-al2023", wiring: "nodeadm", scenario: "eks-al2023", unit: "kubelet.service" });
  });

  // An AL2023 image, and a kubeadm image on an RPM distribution (the cloud-init example covers the DEB layout).
  for (const [distro, scenario] of [
    ["eks-al2023", "eks-al2023"],
    ["kubeadm", "kubeadm-rpm"],
  ] as const) {
    it(`Packer provisioner (DISTRO=${distro}): bakes from the files uploaded to /tmp, checks them with doctor, cleans /tmp`, async () => {
      const root = newRoot(`packer-${distro}`);
      seedScenario(root, scenario);
      mkdirSync(join(root.upper, "tmp"), { recursive: true, mode: 0o1777 });
      for (const f of [TARBALL, "SHA256SUMS"]) copyFileSync(join(release.dir, f), join(root.upper, "tmp", f));
      const r = await root.run(readFileSync(join(KIT, "examples/packer/provision.sh"), "utf8"), { DISTRO: distro });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^ok\s+config:/m);
      assertShippedConfig(root, "etc/ecr-credential-provider/credential-provider-config.yaml");
      assertTmpClean(root);
      await assertKubeletWouldRun(root, distro === "kubeadm" ? await systemctlCat(root) : "/etc/eks/nodeadm.d/50-ecr-credential-provider.yaml");
      keep(root, { name: `packer-${distro}`, wiring: distro === "kubeadm" ? "systemd" : "nodeadm", scenario, unit: "kubelet.service" });
    });
  }

  it("kops additionalUserData: the drop-in re-issues nodeup's ExecStart with our two flags last", async () => {
    const root = newRoot("kops");
    seedScenario(root, "kops-debian");
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
    const out = await assertKubeletWouldRun(root, await systemctlCat(root));
    assert.match(out, /^ok\s+kubelet-flags: .*--image-credential-provider-bin-dir=\/opt\/ecr-credential-provider\/bin/m);
    keep(root, { name: "kops", wiring: "systemd", scenario: "kops-debian", unit: "kubelet.service" });
  });
});
