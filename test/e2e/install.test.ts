// install.sh into a temporary --root for every distro profile: doctor passes, a rerun changes nothing, --uninstall restores every byte.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  existsSync,
  readlinkSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { snapshot } from "../helpers/unit-roots.ts";
import { createHash } from "node:crypto";
import { tempDir } from "../helpers/temp-dir.ts";

const INSTALL = fileURLToPath(new URL("../../node-config/install.sh", import.meta.url));
const ENTRY = fileURLToPath(new URL("../fixtures/node-config/doctor-entry.ts", import.meta.url));
const TSX = fileURLToPath(import.meta.resolve("tsx"));

let work: string;
/**
 * The executable under test: ECR_E2E_BINARY, else the built dist/ecr-credential-provider, else a
 * stand-in shell script that runs src/doctor through tsx (a checkout that was never built).
 */
let binary: string;
const BUILT = fileURLToPath(new URL("../../dist/ecr-credential-provider", import.meta.url));
/** A real ELF executable needs its interpreter and C runtime inside the root doctor checks. */
let isElf = false;

before(() => {
  work = tempDir("ecr-install-e2e-");
  if (process.env["ECR_E2E_BINARY"]) binary = process.env["ECR_E2E_BINARY"];
  else if (existsSync(BUILT)) binary = BUILT;
  else {
    mkdirSync(join(work, "standin"));
    binary = join(work, "standin", "ecr-credential-provider");
    writeFileSync(binary, `#!/bin/sh\nexec "${process.execPath}" --import "${TSX}" "${ENTRY}" "$0" "$@"\n`);
    chmodSync(binary, 0o755);
  }
  isElf = readFileSync(binary)
    .subarray(0, 4)
    .equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
});

/** The host's C runtime, linked into a root so it looks like a node image that can run the executable. */
const HOST_RUNTIME = [
  "/lib64/ld-linux-x86-64.so.2",
  "/lib/ld-linux-aarch64.so.1",
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/lib/aarch64-linux-gnu/libc.so.6",
  "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
  "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
];
after(() => rmSync(work, { recursive: true, force: true }));

type Tree = Record<string, string>;
const KUBEADM_DROPIN = `[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;
const STOCK_EKS_CONFIG = JSON.stringify(
  {
    apiVersion: "kubelet.config.k8s.io/v1",
    kind: "CredentialProviderConfig",
    providers: [
      {
        name: "ecr-credential-provider",
        matchImages: ["*.dkr.ecr.*.amazonaws.com"],
        defaultCacheDuration: "12h0m0s",
        apiVersion: "credentialprovider.kubelet.k8s.io/v1",
      },
    ],
  },
  null,
  2,
);
const BASE: Tree = { "bin/sh": "", "etc/hostname": "node-1\n" };

interface Profile {
  distro: string;
  extra?: string[];
  tree: Tree;
  /** Executable bits for fixture files (relative path → mode). */
  modes?: Record<string, number>;
  doctor: string[];
}

const profiles: Profile[] = [
  {
    distro: "kubeadm",
    tree: {
      "usr/lib/systemd/system/kubelet.service": "[Service]\nExecStart=/usr/bin/kubelet\n",
      "usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf": KUBEADM_DROPIN,
      "etc/default/kubelet": "KUBELET_EXTRA_ARGS=--node-ip=10.0.0.5\n",
    },
    doctor: ["--kubelet-flags", "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"],
  },
  {
    distro: "generic",
    tree: {
      "etc/systemd/system/kubelet.service":
        "[Unit]\nDescription=Kubelet\n[Service]\nExecStart=/usr/local/bin/kubelet --config=/var/lib/kubelet/kubelet-config.yaml --kubeconfig=/var/lib/kubelet/kubeconfig --v=2\n",
    },
    doctor: ["--kubelet-flags", "/etc/systemd/system/kubelet.service.d/zz-ecr-credential-provider.conf"],
  },
  {
    distro: "kops",
    extra: ["--registry-alias", "mirror.example.internal=111122223333.dkr.ecr.us-east-1.amazonaws.com"],
    tree: {
      "lib/systemd/system/kubelet.service": '[Service]\nEnvironmentFile=/etc/sysconfig/kubelet\nExecStart=/usr/local/bin/kubelet "$DAEMON_ARGS"\nUser=root\n',
      "etc/sysconfig/kubelet":
        'DAEMON_ARGS="--config=/var/lib/kubelet/kubelet.conf --image-credential-provider-config=/var/lib/kubelet/credential-provider.conf --image-credential-provider-bin-dir=/usr/local/bin"\nHOME="/root"\n',
    },
    doctor: ["--kubelet-flags", "/etc/systemd/system/kubelet.service.d/zz-ecr-credential-provider.conf"],
  },
  {
    distro: "eks-al2023",
    tree: {
      "etc/eks/nodeadm.d/.keep": "",
      "etc/eks/image-credential-provider/config.json": STOCK_EKS_CONFIG,
      "etc/eks/image-credential-provider/ecr-credential-provider": "stock\n",
    },
    modes: { "etc/eks/image-credential-provider/ecr-credential-provider": 0o755 },
    doctor: ["--kubelet-flags", "/etc/eks/nodeadm.d/50-ecr-credential-provider.yaml"],
  },
  {
    distro: "eks-al2023",
    extra: ["--mode", "in-place"],
    tree: {
      "etc/eks/nodeadm.d/.keep": "",
      "etc/eks/image-credential-provider/config.json": STOCK_EKS_CONFIG,
      "etc/eks/image-credential-provider/ecr-credential-provider": "stock\n",
    },
    modes: { "etc/eks/image-credential-provider/ecr-credential-provider": 0o755 },
    doctor: ["--config", "/etc/eks/image-credential-provider/config.json", "--bin-dir", "/etc/eks/image-credential-provider"],
  },
  {
    distro: "eks-hybrid",
    tree: { "etc/aws/hybrid/config": "[profile default]\nregion = us-west-2\n", "etc/eks/image-credential-provider/config.json": STOCK_EKS_CONFIG },
    doctor: ["--config", "/etc/eks/image-credential-provider/config.json", "--bin-dir", "/opt/ecr-credential-provider/bin"],
  },
  {
    distro: "k3s",
    tree: { "etc/rancher/k3s/config.yaml": "node-name: n1\n" },
    doctor: ["--config", "/var/lib/rancher/credentialprovider/config.yaml", "--bin-dir", "/var/lib/rancher/credentialprovider/bin"],
  },
  {
    distro: "rke2",
    extra: ["--service-account"],
    tree: { "etc/rancher/rke2/config.yaml": "token: x\n" },
    doctor: ["--config", "/var/lib/rancher/credentialprovider/config.yaml", "--bin-dir", "/var/lib/rancher/credentialprovider/bin"],
  },
  { distro: "talos", tree: {}, doctor: ["--config", "/credential-provider-config.yaml", "--bin-dir", "/rootfs/usr/local/lib/kubelet/credentialproviders"] },
];

function makeRoot(p: Profile): string {
  const root = mkdtempSync(join(work, `${p.distro}-`));
  for (const [rel, content] of Object.entries({ ...BASE, ...p.tree })) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
    chmodSync(join(root, rel), p.modes?.[rel] ?? 0o644);
  }
  if (isElf) {
    for (const f of HOST_RUNTIME.filter((f) => existsSync(f))) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      symlinkSync(f, join(root, f));
    }
  }
  return root;
}

const sh = (args: string[]) => spawnSync("sh", [INSTALL, ...args], { encoding: "utf8" });
const doctor = (root: string, args: string[]) => spawnSync(binary, ["doctor", "--root", root, "--offline", ...args], { encoding: "utf8" });

describe("install.sh on each distro profile", () => {
  for (const p of profiles) {
    const label = `${p.distro}${p.extra ? ` ${p.extra.join(" ")}` : ""}`;
    it(`installs for ${label}, passes doctor, changes nothing on a rerun and restores every byte on --uninstall`, () => {
      const root = makeRoot(p);
      const before = snapshot(root);
      const args = ["--distro", p.distro, "--root", root, "--binary", binary, ...(p.extra ?? [])];
      const first = sh(args);
      assert.equal(first.status, 0, first.stdout + first.stderr);
      assert.match(first.stdout, /change\(s\) made/);
      const d = doctor(root, p.doctor);
      assert.equal(d.status, 0, d.stdout + d.stderr);
      assert.doesNotMatch(d.stdout, /^fail/m);
      const installed = snapshot(root);
      const second = sh(args);
      assert.equal(second.status, 0, second.stderr);
      assert.match(second.stdout, /nothing to do/);
      assert.deepEqual(snapshot(root), installed);
      const un = sh(["--distro", p.distro, "--root", root, "--uninstall"]);
      assert.equal(un.status, 0, un.stderr);
      assert.deepEqual(snapshot(root), before);
    });
  }
  it("detects kubeadm by its drop-in when --distro is auto", () => {
    const root = makeRoot(profiles[0]!);
    const r = sh(["--root", root, "--binary", binary, "--dry-run"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /detected distro: kubeadm/);
  });
  it("changes nothing in --dry-run mode", () => {
    const root = makeRoot(profiles[0]!);
    const before = snapshot(root);
    const r = sh(["--distro", "kubeadm", "--root", root, "--binary", binary, "--dry-run"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /would write \/etc\/default\/kubelet/);
    assert.deepEqual(snapshot(root), before);
  });
  it("refuses a broken config before it reaches the kubelet's path and leaves the old config in place", () => {
    const root = makeRoot(profiles[6]!);
    assert.equal(sh(["--distro", "k3s", "--root", root, "--binary", binary]).status, 0);
    const cfg = join(root, "var/lib/rancher/credentialprovider/config.yaml");
    const good = readFileSync(cfg, "utf8");
    const broken = join(work, "broken.yaml");
    writeFileSync(broken, good.replace('defaultCacheDuration: "12h"', "defaultCacheDuration: 0"));
    const r = sh(["--distro", "k3s", "--root", root, "--binary", binary, "--config-file", broken]);
    assert.equal(r.status, 65, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /^install\.sh: refusing \/var\/lib\/rancher\/credentialprovider\/config\.yaml: config: .*defaultCacheDuration.*nothing was changed\n$/,
    );
    assert.equal(readFileSync(cfg, "utf8"), good);
    assert.ok(!readdirSync(dirname(cfg)).some((n) => n.includes(".new") || n.includes("ecr-tmp")));
  });
  it("with the .deb installed, links the kit path to the packaged executable, survives an apt upgrade and refuses --binary (64)", () => {
    const debExe = "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/ecr-credential-provider";
    const root = makeRoot(profiles[0]!);
    mkdirSync(dirname(join(root, debExe)), { recursive: true });
    copyFileSync(binary, join(root, debExe));
    chmodSync(join(root, debExe), 0o755);
    mkdirSync(join(root, "var/lib/dpkg/info"), { recursive: true });
    writeFileSync(join(root, "var/lib/dpkg/info/ecr-credential-provider.list"), `${debExe}\n`);
    const before = snapshot(root);
    const first = sh(["--distro", "kubeadm", "--root", root]);
    assert.equal(first.status, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /linked \/opt\/ecr-credential-provider\/bin\/ecr-credential-provider -> /);
    assert.equal(readlinkSync(join(root, "opt/ecr-credential-provider/bin/ecr-credential-provider")), debExe);
    const refused = sh(["--distro", "kubeadm", "--root", root, "--binary", binary]);
    assert.equal(refused.status, 64, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /package is installed/);
    // An apt upgrade replaces the packaged executable: the link is still ours, a rerun has nothing to do.
    appendFileSync(join(root, debExe), "\n");
    assert.match(sh(["--distro", "kubeadm", "--root", root]).stdout, /nothing to do/);
    const un = sh(["--distro", "kubeadm", "--root", root, "--uninstall"]);
    assert.equal(un.status, 0, un.stderr);
    assert.match(un.stdout, /removed \/opt\/ecr-credential-provider\/bin\/ecr-credential-provider/);
    writeFileSync(join(root, debExe), readFileSync(binary));
    chmodSync(join(root, debExe), 0o755);
    assert.deepEqual(snapshot(root), before);
  });
  it("refuses Bottlerocket with exit 69 and explains the supported settings", () => {
    const r = sh(["--distro", "bottlerocket", "--root", work, "--binary", binary]);
    assert.equal(r.status, 69);
    assert.match(r.stdout, /credential-providers\.ecr-credential-provider/);
  });
});

describe("install.sh --release", () => {
  function tarball(sumsLine: (hash: string) => string): string {
    const dir = mkdtempSync(join(work, "rel-"));
    mkdirSync(join(dir, "pkg", "ecr-credential-provider"), { recursive: true });
    const exe = join(dir, "pkg", "ecr-credential-provider", "ecr-credential-provider");
    writeFileSync(exe, readFileSync(binary));
    chmodSync(exe, 0o755);
    const hash = createHash("sha256").update(readFileSync(exe)).digest("hex");
    writeFileSync(join(dir, "pkg", "ecr-credential-provider", "SHA256SUMS"), sumsLine(hash));
    const tgz = join(dir, "ecr-credential-provider-linux-amd64.tar.gz");
    assert.equal(spawnSync("tar", ["-czf", tgz, "-C", join(dir, "pkg"), "ecr-credential-provider"]).status, 0);
    return tgz;
  }
  it("installs from a tarball whose inner SHA256SUMS matches the executable", () => {
    const root = makeRoot(profiles[6]!);
    const r = sh(["--distro", "k3s", "--root", root, "--release", tarball((h) => `${h}  ecr-credential-provider\n`)]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /verified sha256/);
    assert.ok(existsSync(join(root, "var/lib/rancher/credentialprovider/bin/ecr-credential-provider")));
    assert.equal(statSync(join(root, "var/lib/rancher/credentialprovider/bin/ecr-credential-provider")).mode & 0o777, 0o755);
  });
  it("refuses a tarball whose SHA256SUMS does not match and installs nothing", () => {
    const root = makeRoot(profiles[6]!);
    const before = snapshot(root);
    const r = sh(["--distro", "k3s", "--root", root, "--release", tarball(() => `${"0".repeat(64)}  ecr-credential-provider\n`)]);
    assert.equal(r.status, 67, r.stdout + r.stderr);
    assert.deepEqual(snapshot(root), before);
  });
});
