// Scenario 2 of test/node: the node kit's install.sh writes into a root that looks like a
// distribution's node; the kubelet then runs with the argv systemd would run from that root (unit,
// drop-ins, Environment=, EnvironmentFile=), and the root's files are bind-mounted at their paths
// (inside the test's private mount namespace, over the overlays inside.sh made). What the
// installer writes is what the kubelet runs.

import * as fs from "node:fs";
import * as path from "node:path";
import { readKubeletFlagsFile } from "../../src/doctor/kubelet-flags.ts";
import { run, selfSignedEcCert } from "./node-lib.ts";

export type Profile = "kubeadm" | "generic";

/** The kubelet unit files a distribution ships, before install.sh runs. */
function distroFiles(profile: Profile, kubeletConfig: string, kubeconfig: string): Record<string, string> {
  if (profile === "kubeadm") {
    // The kubelet .deb (kubernetes/release, packages/deb) and kubeadm's drop-in, plus what
    // `kubeadm init/join` writes: config.yaml, kubeadm-flags.env and kubelet.conf.
    return {
      "/usr/lib/systemd/system/kubelet.service":
        "[Unit]\nDescription=kubelet: The Kubernetes Node Agent\nDocumentation=https://kubernetes.io/docs/\nWants=network-online.target\nAfter=network-online.target\n\n[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\nStartLimitInterval=0\nRestartSec=10\n\n[Install]\nWantedBy=multi-user.target\n",
      "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf":
        "# Note: This dropin only works with kubeadm and kubelet v1.11+\n[Service]\n" +
        'Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"\n' +
        'Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"\n' +
        '# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically\n' +
        "EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\n" +
        "# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use\n" +
        "# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.\n" +
        "EnvironmentFile=-/etc/default/kubelet\n" +
        "ExecStart=\n" +
        "ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n",
      "/var/lib/kubelet/config.yaml": kubeletConfig,
      "/var/lib/kubelet/kubeadm-flags.env": 'KUBELET_KUBEADM_ARGS="--hostname-override=node-test --node-ip=127.0.0.1 --v=5"\n',
      "/etc/kubernetes/kubelet.conf": kubeconfig,
    };
  }
  // A hand-written unit as many "kubernetes the hard way" style nodes have it.
  return {
    "/etc/systemd/system/kubelet.service":
      "[Unit]\nDescription=Kubernetes Kubelet\nAfter=containerd.service\nRequires=containerd.service\n\n[Service]\n" +
      "ExecStart=/usr/local/bin/kubelet \\\n  --config=/etc/kubernetes/kubelet-config.yaml \\\n  --hostname-override=node-test \\\n  --node-ip=127.0.0.1 \\\n  --v=5\nRestart=on-failure\nRestartSec=5\n\n[Install]\nWantedBy=multi-user.target\n",
    "/etc/kubernetes/kubelet-config.yaml": kubeletConfig,
  };
}

/** A kubeconfig with a valid client certificate for an API server that is not there (kubeadm's node, API down). */
function kubeconfig(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const key = path.join(dir, "client.key");
  const crt = path.join(dir, "client.crt");
  selfSignedEcCert("/O=system:nodes/CN=system:node:node-test", key, crt);
  const b64 = (f: string) => fs.readFileSync(f).toString("base64");
  return `apiVersion: v1
kind: Config
clusters:
- name: default
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
users:
- name: default
  user:
    client-certificate-data: ${b64(crt)}
    client-key-data: ${b64(key)}
contexts:
- name: default
  context: {cluster: default, user: default}
current-context: default
`;
}

// --- systemd's argv: unit + drop-ins in systemd's order, read by the doctor's unit reader ---------

const UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];

/**
 * The argv systemd would run for kubelet.service under `root`: the unit from the first unit
 * directory that has it, then every `kubelet.service.d/*.conf` ordered by file name (a name in an
 * earlier directory masks the same name later), concatenated like `systemctl cat kubelet`, then
 * Environment=/EnvironmentFile=/ExecStart= expanded ($VAR split into words, ${VAR} one word).
 */
export async function systemdArgv(root: string): Promise<string[]> {
  const unitDir = UNIT_DIRS.find((d) => fs.existsSync(path.join(root, d, "kubelet.service")));
  if (!unitDir) throw new Error(`no kubelet.service under ${root}`);
  const files = [path.join(root, unitDir, "kubelet.service")];
  const dropins = new Map<string, string>();
  for (const d of UNIT_DIRS) {
    const dd = path.join(root, d, "kubelet.service.d");
    if (!fs.existsSync(dd)) continue;
    for (const f of fs.readdirSync(dd)) if (f.endsWith(".conf") && !dropins.has(f)) dropins.set(f, path.join(dd, f));
  }
  files.push(...[...dropins.keys()].sort().map((k) => dropins.get(k)!));
  const text = files.map((f) => fs.readFileSync(f, "utf8")).join("\n");
  const flags = await readKubeletFlagsFile(text, "kubelet.service", async (p) => fs.readFileSync(path.join(root, p), "utf8"));
  const bad = flags.notes.filter((n) => n.status === "fail");
  if (bad.length) throw new Error(`systemd would not start this unit: ${bad.map((n) => n.message).join("; ")}`);
  return flags.argv;
}

export interface NodeKit {
  argv: string[];
  /** The provider config path the kubelet was given. */
  config: string;
  root: string;
  installLog: string;
  unmount(): void;
}

/** install.sh --root into a fresh distro root, then bind-mount the root's files at their paths. */
export async function nodeKitArgv(o: {
  profile: Profile;
  scratch: string;
  installer: string;
  plugin: string;
  kubelet: string;
  kubeletConfig: string;
  registryAlias: string;
}): Promise<NodeKit> {
  const root = path.join(o.scratch, "root");
  fs.mkdirSync(root, { recursive: true });
  const files = distroFiles(o.profile, o.kubeletConfig, o.profile === "kubeadm" ? kubeconfig(path.join(o.scratch, "pki")) : "");
  files["/etc/debian_version"] = "12.0\n"; // what a Debian node has (install.sh picks /etc/default/kubelet)
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text);
  }
  // The node's OS (install.sh's doctor checks the executable's interpreter, glibc and libstdc++
  // under the root): links to this machine's, which the kubelet will run on.
  for (const l of ["/lib", "/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64"]) {
    if (!fs.existsSync(l) || fs.existsSync(path.join(root, l))) continue;
    fs.mkdirSync(path.dirname(path.join(root, l)), { recursive: true });
    fs.symlinkSync(l, path.join(root, l));
  }
  const installLog = run("sh", [o.installer, "--root", root, "--distro", o.profile, "--binary", o.plugin, `--registry-alias=${o.registryAlias}`], {
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", TMPDIR: process.env.TMPDIR },
  });
  const argv = await systemdArgv(root);
  const config = argv.find((a) => a.startsWith("--image-credential-provider-config="))?.split("=")[1] ?? "";
  if (!config) throw new Error(`install.sh left no --image-credential-provider-config in systemd's argv: ${argv.join(" ")}\n${installLog}`);

  // The kubelet binary at the unit's path; then every file of the root at its own path.
  const binaries: Record<string, string> = { [argv[0]!]: o.kubelet };
  const mounts: string[] = [];
  const bind = (src: string, dest: string) => {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (!fs.existsSync(dest)) fs.writeFileSync(dest, "");
    run("mount", ["--bind", src, dest]);
    mounts.push(dest);
  };
  try {
    for (const [dest, src] of Object.entries(binaries)) bind(src, dest);
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && p !== path.join(root, "etc/debian_version")) bind(p, p.slice(root.length)); // symlinks (the OS links above) are skipped
      }
    };
    walk(root);
  } catch (err) {
    for (const m of mounts.reverse()) run("umount", [m]);
    throw err;
  }
  return {
    argv,
    config,
    root,
    installLog,
    unmount() {
      for (const m of mounts.reverse()) {
        try {
          run("umount", [m]);
        } catch {
          /* the namespace goes away anyway */
        }
      }
    },
  };
}
