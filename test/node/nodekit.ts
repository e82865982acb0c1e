// Scenario 2 of test/node: the node kit's install.sh writes into a root made of the unit files a
// distribution really ships (test/fixtures/units, provenance in its README); the kubelet then runs
// with the argv systemd would run from that root, expanded by test/kubelet's systemdunit package
// (`unit-argv`: written from systemd's rules, independently of install.sh and of the doctor), and
// the root's files are bind-mounted at their paths (inside the test's private mount namespace, over
// the overlays inside.sh made). What the installer writes is what the kubelet runs.

import * as fs from "node:fs";
import * as path from "node:path";
import { buildRoot, scenarios } from "../helpers/unit-roots.ts";
import { run, selfSignedEcCert } from "./node-lib.ts";

export type Profile = "kubeadm" | "generic";

/**
 * The real node each profile is installed on (scenarios.json): kubeadm's DEB unit and drop-in
 * (this machine is Debian, as the drop-in's /etc/default/kubelet expects), and the hand-written
 * multi-line unit of Kubernetes the Hard Way (`--v=2`: the plugin execs are counted by the
 * kubelet's metrics, not its V(5) log).
 */
export const NODE_OF: Record<Profile, string> = { kubeadm: "kubeadm-deb", generic: "kubernetes-the-hard-way" };

/** What `unit-argv` prints (test/kubelet/cmd/unit-argv). */
export interface UnitArgv {
  unit: string;
  fragment: string;
  dropIns: string[] | null;
  path: string;
  prefixes: string;
  argv: string[];
}

function unitArgv(tool: string, root: string): UnitArgv {
  return JSON.parse(run(tool, ["--root", root, "--unit", "kubelet.service"], { timeout: 30_000 })) as UnitArgv;
}

/** The value of `--name=v` or `--name v` in an argv (the last one wins, as in the kubelet's flag set). */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  let v: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    if (argv[i]!.startsWith(`--${name}=`)) v = argv[i]!.slice(name.length + 3);
    else if (argv[i] === `--${name}`) v = argv[++i];
  }
  return v;
}

/** The argv without our two flags (either form): what must equal the argv before install. */
export function withoutOurFlags(argv: readonly string[]): string[] {
  const ours = ["--image-credential-provider-config", "--image-credential-provider-bin-dir"];
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (ours.includes(argv[i]!)) i++;
    else if (!ours.some((f) => argv[i]!.startsWith(f + "="))) out.push(argv[i]!);
  }
  return out;
}

/** A kubeconfig with a valid client certificate for an API server that is not there (a node whose API server is down). */
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

export interface NodeKit {
  /** What to spawn: the unit's ExecStart as systemd would run it after install (argv[0] = the unit's binary path). */
  argv: string[];
  /** The same before install.sh ran. */
  before: UnitArgv;
  after: UnitArgv;
  /** The provider config and bin dir the argv names (node paths). */
  config: string;
  binDir: string;
  root: string;
  installLog: string;
  unmount(): void;
}

/**
 * A real node's unit files under `<scratch>/root`, plus what its operator or bootstrap tool put at
 * the paths the unit names (`--config`: our KubeletConfiguration, `--kubeconfig`), then
 * `install.sh --root`, then systemd's argv read back by `unit-argv`, and the root's files
 * bind-mounted at their node paths. Nothing in the argv is replaced: the --root-dir and --cert-dir
 * the units leave at their defaults (/var/lib/kubelet, /var/lib/kubelet/pki) are under inside.sh's
 * /var overlay, whose upper layer is in the scratch directory, so they need no redirect; only the
 * kubelet binary at the unit's ExecStart path is ours (the cached build, bind-mounted there).
 */
export function nodeKitArgv(o: {
  profile: Profile;
  scratch: string;
  installer: string;
  plugin: string;
  kubelet: string;
  unitArgvTool: string;
  kubeletConfig: string;
  registryAlias: string;
}): NodeKit {
  const root = path.join(o.scratch, "root");
  fs.mkdirSync(root, { recursive: true });
  const scenario = scenarios().find((s) => s.name === NODE_OF[o.profile]);
  if (!scenario) throw new Error(`no scenario ${NODE_OF[o.profile]} in test/fixtures/units/scenarios.json`);
  buildRoot(scenario, root);
  const before = unitArgv(o.unitArgvTool, root);
  const configPath = flagValue(before.argv, "config");
  const kubeconfigPath = flagValue(before.argv, "kubeconfig");
  if (!configPath || !kubeconfigPath) throw new Error(`${scenario.name}: the unit names no --config/--kubeconfig: ${before.argv.join(" ")}`);
  for (const [p, text] of [
    [configPath, o.kubeletConfig],
    [kubeconfigPath, kubeconfig(path.join(o.scratch, "pki"))],
  ] as const) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text, { mode: 0o600 });
  }
  // The node's OS (install.sh's doctor checks the executable's interpreter, glibc and libstdc++
  // under the root): links to this machine's, which the kubelet will run on.
  const osLinks: string[] = [];
  for (const l of ["/lib", "/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64"]) {
    if (!fs.existsSync(l) || fs.existsSync(path.join(root, l))) continue;
    fs.mkdirSync(path.dirname(path.join(root, l)), { recursive: true });
    fs.symlinkSync(l, path.join(root, l));
    osLinks.push(path.join(root, l));
  }
  const installLog = run("sh", [o.installer, "--root", root, "--distro", o.profile, "--binary", o.plugin, `--registry-alias=${o.registryAlias}`], {
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", TMPDIR: process.env.TMPDIR },
  });
  // Gone again before systemd's view is read: inside the root an absolute link to its own path is a
  // loop (systemd resolves links relative to --root), and the unit's files are all that matter there.
  for (const l of osLinks) fs.unlinkSync(l);
  const after = unitArgv(o.unitArgvTool, root);
  const config = flagValue(after.argv, "image-credential-provider-config") ?? "";
  const binDir = flagValue(after.argv, "image-credential-provider-bin-dir") ?? "";
  if (!config || !binDir) throw new Error(`install.sh left no credential provider flags in systemd's argv: ${after.argv.join(" ")}\n${installLog}`);

  const mounts: string[] = [];
  const bind = (src: string, dest: string) => {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (!fs.existsSync(dest)) fs.writeFileSync(dest, "");
    run("mount", ["--bind", src, dest]);
    mounts.push(dest);
  };
  try {
    bind(o.kubelet, after.path);
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        // /etc/debian_version is this machine's already.
        else if (e.isFile() && p !== path.join(root, "etc/debian_version")) bind(p, p.slice(root.length));
      }
    };
    walk(root);
  } catch (err) {
    for (const m of mounts.reverse()) run("umount", [m]);
    throw err;
  }
  return {
    argv: [after.path, ...after.argv.slice(1)],
    before,
    after,
    config,
    binDir,
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
