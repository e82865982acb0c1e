// The pieces of a real node for test/node/node.test.ts: a test CA, images made by hand, Debian's
// docker-registry, containerd (1.6 from Debian or v2 from the module proxy), a real kubelet, and
// static pods. Runs only inside the namespaces test/node/run.sh creates (see inside.sh).

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export const env = {
  scratch: process.env.ECR_NODE_SCRATCH ?? "",
  cgroupRoot: process.env.ECR_NODE_CGROUP_ROOT ?? "",
  kubelet: process.env.ECR_NODE_KUBELET ?? "",
  containerd2: process.env.ECR_NODE_CONTAINERD2 ?? "",
  pause: process.env.ECR_NODE_PAUSE ?? "",
  pauseTag: process.env.ECR_NODE_PAUSE_TAG ?? "3.10.2",
  plugin: process.env.ECR_PROVIDER_BIN ?? "",
  repo: process.env.ECR_NODE_REPO ?? process.cwd(),
  /** test/kubelet's cmd/unit-argv, built by run.sh: the argv systemd would run for a unit under a root. */
  unitArgv: process.env.ECR_NODE_UNIT_ARGV ?? "",
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stop a child: `signal`, then SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopChild(p: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once("exit", r));
  p.kill(signal);
  if ((await Promise.race([gone.then(() => true), sleep(graceMs).then(() => false)])) === false) {
    p.kill("SIGKILL");
    await gone;
  }
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeout?: number } = {}): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], ...opts });
}

/**
 * Run a command without blocking the event loop (the fake AWS lives in this process: a synchronous
 * exec of something that calls it would hang until that thing's own deadline).
 */
export function runAsync(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(opts.input ?? "");
  });
}

export function read(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 60_000, diag?: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${diag ? "\n" + diag() : ""}`);
    await sleep(200);
  }
}

function mkdirp(d: string): string {
  fs.mkdirSync(d, { recursive: true });
  return d;
}

// --- PKI -------------------------------------------------------------------------------------------

export interface Pki {
  caCert: string;
  cert: string;
  key: string;
  dir: string;
}

/** A throwaway self-signed P-256 certificate (valid two days) and its unencrypted key. */
export function selfSignedEcCert(subject: string, keyFile: string, certFile: string): void {
  run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    subject,
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
}

/** A throwaway CA and one server certificate for all registry host names. */
export function makePki(dir: string, hosts: string[]): Pki {
  mkdirp(dir);
  const p = (f: string) => path.join(dir, f);
  selfSignedEcCert("/CN=ecr-node-test CA", p("ca.key"), p("ca.crt"));
  fs.writeFileSync(p("san.ext"), `subjectAltName=${hosts.map((h) => "DNS:" + h).join(",")}\nextendedKeyUsage=serverAuth\n`);
  run("openssl", [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    "/CN=registry",
    "-keyout",
    p("server.key"),
    "-out",
    p("server.csr"),
  ]);
  run("openssl", [
    "x509",
    "-req",
    "-in",
    p("server.csr"),
    "-CA",
    p("ca.crt"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    p("san.ext"),
    "-out",
    p("server.crt"),
  ]);
  return { caCert: p("ca.crt"), cert: p("server.crt"), key: p("server.key"), dir };
}

// --- images ----------------------------------------------------------------------------------------

const sha = (b: Buffer | string) => "sha256:" + createHash("sha256").update(b).digest("hex");

/** A reproducible gzip'd tar layer of `root`. Returns [compressed, uncompressed digest]. */
function layer(root: string, out: string): { blob: Buffer; diffId: string } {
  run("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", root, "-cf", out, "."]);
  const tar = fs.readFileSync(out);
  run("gzip", ["-n", "-f", out]);
  return { blob: fs.readFileSync(out + ".gz"), diffId: sha(tar) };
}

/**
 * An OCI image layout at `dir` (tag `tag`): a static busybox layer (sh, cat, echo, sleep) plus one
 * layer holding /message, so a container's output proves which image it runs.
 * `name` adds the io.containerd.image.name annotation (what `ctr images import` names it).
 */
export function makeImage(
  dir: string,
  opts: { message?: string; files?: Record<string, { src: string; mode: number }>; entrypoint?: string[]; tag: string; name?: string },
): string {
  const work = mkdirp(path.join(dir + ".work"));
  const layers: { blob: Buffer; diffId: string }[] = [];
  if (opts.message !== undefined) {
    const bb = mkdirp(path.join(work, "bb"));
    mkdirp(path.join(bb, "bin"));
    fs.copyFileSync("/bin/busybox", path.join(bb, "bin/busybox"));
    fs.chmodSync(path.join(bb, "bin/busybox"), 0o755);
    for (const a of ["sh", "cat", "echo", "sleep", "ls"]) fs.symlinkSync("busybox", path.join(bb, "bin", a));
    layers.push(layer(bb, path.join(work, "bb.tar")));
    const msg = mkdirp(path.join(work, "msg"));
    fs.writeFileSync(path.join(msg, "message"), opts.message);
    layers.push(layer(msg, path.join(work, "msg.tar")));
  }
  if (opts.files) {
    const f = mkdirp(path.join(work, "files"));
    for (const [name, { src, mode }] of Object.entries(opts.files)) {
      fs.copyFileSync(src, path.join(f, name));
      fs.chmodSync(path.join(f, name), mode);
    }
    layers.push(layer(f, path.join(work, "files.tar")));
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/bin"], ...(opts.entrypoint ? { Entrypoint: opts.entrypoint } : {}) },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha(l.blob), size: l.blob.length })),
    }),
  );
  const blobs = mkdirp(path.join(dir, "blobs", "sha256"));
  for (const b of [config, manifest, ...layers.map((l) => l.blob)]) fs.writeFileSync(path.join(blobs, sha(b).slice(7)), b);
  fs.writeFileSync(path.join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  const annotations: Record<string, string> = { "org.opencontainers.image.ref.name": opts.tag };
  if (opts.name) annotations["io.containerd.image.name"] = opts.name;
  fs.writeFileSync(
    path.join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha(manifest), size: manifest.length, annotations }],
    }),
  );
  fs.rmSync(work, { recursive: true, force: true });
  return sha(manifest);
}

// --- registry --------------------------------------------------------------------------------------

/** Debian's docker-registry (distribution 2.8) on ip:443 with TLS; htpasswd user AWS, or anonymous. */
export class Registry {
  proc?: ChildProcess;
  readonly dir: string;
  readonly log: string;
  password?: string;
  constructor(
    readonly host: string,
    readonly ip: string,
    private readonly pki: Pki,
    base: string,
  ) {
    this.dir = mkdirp(path.join(base, "registry-" + host));
    this.log = path.join(this.dir, "registry.log");
  }

  /** (Re)start; `password` undefined = anonymous registry. */
  async start(password: string | undefined): Promise<void> {
    await this.stop();
    this.password = password;
    let auth = "";
    if (password !== undefined) {
      // bcrypt, the htpasswd format distribution accepts (apache2-utils).
      const line = run("htpasswd", ["-nbB", "-C", "5", "AWS", password]).trim();
      fs.writeFileSync(path.join(this.dir, "htpasswd"), line + "\n", { mode: 0o600 });
      auth = `auth:\n  htpasswd:\n    realm: ${this.host}\n    path: ${path.join(this.dir, "htpasswd")}\n`;
    }
    const cfg = path.join(this.dir, "config.yml");
    fs.writeFileSync(
      cfg,
      `version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: ${path.join(this.dir, "data")}
http:
  addr: ${this.ip}:443
  secret: node-test-${randomBytes(8).toString("hex")}
  tls:
    certificate: ${this.pki.cert}
    key: ${this.pki.key}
${auth}`,
    );
    const out = fs.openSync(this.log, "a");
    this.proc = spawn("docker-registry", ["serve", cfg], { stdio: ["ignore", out, out] });
    fs.closeSync(out);
    const url = `https://${this.host}/v2/`;
    await waitFor(
      `registry ${this.host}`,
      () => {
        try {
          const code = run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", this.pki.caCert, url]);
          return code === (password === undefined ? "200" : "401");
        } catch {
          return false;
        }
      },
      20_000,
      () => read(this.log),
    );
  }

  async stop(): Promise<void> {
    await stopChild(this.proc, "SIGKILL");
    this.proc = undefined;
  }

  /** Push an OCI layout as `repo:tag` with the registry's current credentials. */
  push(layout: string, tag: string, repo: string): void {
    const certDir = mkdirp(path.join(this.dir, "skopeo-certs"));
    fs.copyFileSync(this.pki.caCert, path.join(certDir, "ca.crt"));
    const creds = this.password === undefined ? ["--dest-no-creds"] : ["--dest-creds", `AWS:${this.password}`];
    run("skopeo", ["--insecure-policy", "copy", "-q", "--dest-cert-dir", certDir, ...creds, `oci:${layout}:${tag}`, `docker://${this.host}/${repo}:${tag}`]);
  }

  /**
   * Requests for a manifest of `repo` in the access log (from offset `from`): method, status.
   * On a registry with htpasswd (only user AWS), a 2xx means the client sent AWS and the current
   * password; distribution answers 401 to anonymous and wrong credentials alike.
   */
  manifestRequests(repo: string, from = 0): { method: string; status: number; line: string }[] {
    const out: { method: string; status: number; line: string }[] = [];
    const re = new RegExp(`"(GET|HEAD) /v2/${repo}/manifests/[^ ]+ HTTP/[0-9.]+" (\\d{3}) `);
    for (const line of read(this.log).slice(from).split("\n")) {
      const m = re.exec(line);
      if (m) out.push({ method: m[1]!, status: Number(m[2]), line });
    }
    return out;
  }

  size(): number {
    return read(this.log).length;
  }
}

// --- containerd ------------------------------------------------------------------------------------

export type ContainerdFlavour = "1.6" | "2";

/** containerd with the CRI plugin, everything under `dir`; registry trust through hosts.toml. */
export class Containerd {
  proc?: ChildProcess;
  readonly dir: string;
  readonly sock: string;
  readonly log: string;
  constructor(
    readonly flavour: ContainerdFlavour,
    base: string,
    private readonly pki: Pki,
    private readonly hosts: string[],
  ) {
    this.dir = mkdirp(path.join(base, "containerd-" + flavour));
    this.sock = path.join(this.dir, "containerd.sock");
    this.log = path.join(this.dir, "containerd.log");
  }

  private bin(name: string): string {
    return this.flavour === "2" ? path.join(env.containerd2, name) : `/usr/bin/${name}`;
  }

  private config(): string {
    const d = this.dir;
    const certs = mkdirp(path.join(d, "certs.d"));
    for (const h of this.hosts) {
      mkdirp(path.join(certs, h));
      fs.writeFileSync(
        path.join(certs, h, "hosts.toml"),
        `server = "https://${h}"\n\n[host."https://${h}"]\n  capabilities = ["pull", "resolve"]\n  ca = "${this.pki.caCert}"\n`,
      );
    }
    const sandbox = `registry.k8s.io/pause:${env.pauseTag}`;
    const common = `root = "${d}/root"
state = "${d}/state"
[grpc]
  address = "${this.sock}"
[ttrpc]
  address = "${this.sock}.ttrpc"
[debug]
  level = "info"
`;
    // restrict_oom_score_adj: this VM lacks CAP_SYS_RESOURCE; without it every sandbox fails
    // ("can't get final child's PID from pipe").
    if (this.flavour === "1.6") {
      return `version = 2
${common}
[plugins."io.containerd.internal.v1.opt"]
  path = "${d}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${sandbox}"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${d}/cni/bin"
    conf_dir = "${d}/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${certs}"
`;
    }
    return `version = 3
${common}
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "${sandbox}"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "${certs}"
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["${d}/cni/bin"]
    conf_dir = "${d}/cni/conf"
`;
  }

  async start(pauseTar: string): Promise<void> {
    const cfg = path.join(this.dir, "config.toml");
    fs.writeFileSync(cfg, this.config());
    const out = fs.openSync(this.log, "a");
    const PATH = (this.flavour === "2" ? env.containerd2 + ":" : "") + "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
    this.proc = spawn(this.bin("containerd"), ["--config", cfg], { stdio: ["ignore", out, out], env: { PATH, TMPDIR: process.env.TMPDIR } });
    fs.closeSync(out);
    await waitFor(
      `containerd ${this.flavour}`,
      () => {
        try {
          run(this.bin("ctr"), ["--address", this.sock, "version"]);
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      () => read(this.log).slice(-3000),
    );
    // The pause image, built by hand, imported (never pulled).
    run(this.bin("ctr"), ["--address", this.sock, "-n", "k8s.io", "images", "import", "--platform", "linux/amd64", pauseTar]);
  }

  async stop(): Promise<void> {
    await stopChild(this.proc);
    this.proc = undefined;
  }

  /**
   * Ids of the live tasks (containers and pod sandboxes) the CRI plugin runs. A kubelet that
   * forgets a static pod stops its containers asynchronously; stopping that kubelet before they are
   * gone leaves them running, and the next kubelet adopts them for an identical pod (same UID).
   */
  runningTasks(): string[] {
    return run(this.bin("ctr"), ["--address", this.sock, "-n", "k8s.io", "tasks", "ls"])
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 3 && f[2] === "RUNNING")
      .map((f) => f[0]!);
  }

  images(): string {
    return run(this.bin("ctr"), ["--address", this.sock, "-n", "k8s.io", "images", "ls", "-q"]);
  }
  removeImage(ref: string): void {
    try {
      run(this.bin("ctr"), ["--address", this.sock, "-n", "k8s.io", "images", "rm", "--sync", ref]);
    } catch {
      /* not present */
    }
  }
}

// --- kubelet ---------------------------------------------------------------------------------------

export interface PodStatus {
  name: string;
  phase?: string;
  containers: { name: string; image: string; ready: boolean; running: boolean; waiting?: string; message?: string }[];
}

/** The KubeletConfiguration a standalone node needs here (see the measurements). */
export function kubeletConfigYaml(o: { dir: string; endpoint: string; manifests: string }): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 10255
healthzBindAddress: 127.0.0.1
healthzPort: 10248
staticPodPath: ${o.manifests}
fileCheckFrequency: 1s
syncFrequency: 2s
failCgroupV1: false
failSwapOn: false
cgroupDriver: cgroupfs
cgroupRoot: ${env.cgroupRoot}
containerRuntimeEndpoint: unix://${o.endpoint}
podLogsDir: ${o.dir}/pod-logs
volumePluginDir: ${o.dir}/volume-plugins
resolvConf: ""
serializeImagePulls: true
imageMinimumGCAge: 24h
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
`;
}

export class Kubelet {
  proc?: ChildProcess;
  readonly log: string;
  constructor(dir: string, name = "kubelet") {
    this.log = path.join(dir, name + ".log");
  }

  /** Start `argv` (argv[0] = the kubelet) with `environ`; wait until the read-only port answers. */
  async start(argv: string[], environ: Record<string, string>): Promise<void> {
    await this.stop();
    const out = fs.openSync(this.log, "a");
    fs.writeSync(out, `\n===== start ${new Date().toISOString()}: ${argv.join(" ")}\n`);
    this.proc = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", out, out], env: environ });
    fs.closeSync(out);
    await waitFor(
      "kubelet read-only port",
      () => this.pods() !== undefined,
      60_000,
      () => read(this.log).slice(-4000),
    );
  }

  async stop(): Promise<void> {
    await stopChild(this.proc);
    this.proc = undefined;
  }

  pods(): PodStatus[] | undefined {
    let body: string;
    try {
      body = run("curl", ["-sf", "--max-time", "2", "http://127.0.0.1:10255/pods"]);
    } catch {
      return undefined;
    }
    const list = JSON.parse(body) as { items?: any[] };
    return (list.items ?? []).map((p) => ({
      name: p.metadata.name,
      phase: p.status?.phase,
      containers: (p.status?.containerStatuses ?? []).map((c: any) => ({
        name: c.name,
        image: c.image,
        ready: !!c.ready,
        running: !!c.state?.running || !!c.state?.terminated,
        waiting: c.state?.waiting?.reason,
        message: c.state?.waiting?.message,
      })),
    }));
  }

  /**
   * The kubelet's own count of credential provider plugin execs since it started (its metric
   * kubelet_credential_provider_plugin_duration, observed around every exec whatever the log
   * verbosity), the failed ones, and how many took at most `fastS` seconds.
   */
  pluginMetrics(plugin = "ecr-credential-provider", fastS = "5"): { execs: number; errors: number; fast: number } {
    const text = run("curl", ["-sf", "--max-time", "5", "http://127.0.0.1:10255/metrics"]);
    /** The sample of `name` whose labels include all of `labels` (Prometheus text format, any label order). */
    const value = (name: string, labels: Record<string, string>): number => {
      for (const m of text.matchAll(/^([a-z_]+)\{([^}]*)\} (\S+)$/gm)) {
        if (m[1] !== name) continue;
        const have = Object.fromEntries([...m[2]!.matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
        if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
      }
      return 0;
    };
    const p = { plugin_name: plugin };
    return {
      execs: value("kubelet_credential_provider_plugin_duration_count", p),
      errors: value("kubelet_credential_provider_plugin_errors_total", p),
      fast: value("kubelet_credential_provider_plugin_duration_bucket", { ...p, le: fastS }),
    };
  }

  text(from = 0): string {
    return read(this.log).slice(from);
  }
  size(): number {
    return read(this.log).length;
  }
}

/** The repository part of an image reference: what the kubelet looks up (and logs) for it. */
export function repoOf(image: string): string {
  return image.replace(/@.*$/, "").replace(/:[^:/]+$/, "");
}

/** Kubelet log lines (needs -v=5) where its plugin package executed the plugin for `image`'s repository. */
export function pluginExecs(logText: string, image?: string): string[] {
  return logText
    .split("\n")
    .filter((l) => l.includes("Getting image credentials from external exec plugin") && (!image || l.includes(`image="${repoOf(image)}"`)));
}

// --- static pods -----------------------------------------------------------------------------------

export interface ContainerSpec {
  name: string;
  image: string;
  pullPolicy?: "Always" | "IfNotPresent";
}

/** A static pod: hostNetwork (no CNI), each container prints /message and sleeps. */
export function writePod(manifests: string, name: string, containers: ContainerSpec[]): void {
  const spec = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      hostNetwork: true,
      terminationGracePeriodSeconds: 1,
      restartPolicy: "Never",
      containers: containers.map((c) => ({
        name: c.name,
        image: c.image,
        imagePullPolicy: c.pullPolicy ?? "Always",
        command: ["/bin/sh", "-c", `echo "$(cat /message) in ${name}/${c.name}"; exec sleep 3600`],
      })),
    },
  };
  fs.writeFileSync(path.join(manifests, name + ".json"), JSON.stringify(spec, null, 2));
}

export function removePod(manifests: string, name: string): void {
  fs.rmSync(path.join(manifests, name + ".json"), { force: true });
}

/** What a container of a static pod printed (its log file under podLogsDir). */
export function containerOutput(podLogs: string, pod: string, container: string): string {
  if (!fs.existsSync(podLogs)) return "";
  let out = "";
  for (const d of fs.readdirSync(podLogs)) {
    if (!d.startsWith(`default_${pod}-`)) continue;
    const cdir = path.join(podLogs, d, container);
    if (!fs.existsSync(cdir)) continue;
    for (const f of fs.readdirSync(cdir)) out += read(path.join(cdir, f));
  }
  return out;
}
