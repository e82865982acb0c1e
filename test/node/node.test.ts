// A real node: a real kubelet executes dist/ecr-credential-provider for static pods' images, hands
// the credentials to containerd over CRI, containerd pulls from real registries that demand them,
// the containers run. Each scenario is asserted on the fake AWS's calls, the registries' logs, the
// kubelet's log and the containers' output. Run through `npm run test:node` (test/node/run.sh), which
// builds the pieces and creates the namespaces this file expects; see docs/conformance.md.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { fakeAwsEnv, startFakeAws, TEST_CREDENTIALS, type FakeAws, type FakeAwsOptions } from "../helpers/fake-aws.ts";
import {
  Containerd,
  type ContainerdFlavour,
  containerOutput,
  env,
  Kubelet,
  kubeletConfigYaml,
  makeImage,
  makePki,
  pluginExecs,
  read,
  Registry,
  removePod,
  run,
  runAsync,
  waitFor,
  writePod,
  type Pki,
} from "./node-lib.ts";
import { NODE_OF, nodeKitArgv, withoutOurFlags, type Profile } from "./nodekit.ts";

if (!env.scratch || !env.kubelet) throw new Error("run through `npm run test:node` (test/node/run.sh), not directly");

const S = env.scratch;
const ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const ECR_MIRROR_TARGET = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const PUBLIC = "public.ecr.aws";
const MIRROR = "mirror.example.internal";
const FOREIGN = "quay.io";
const IMG = {
  private: `${ECR}/team/app:v1`,
  public: `${PUBLIC}/team/app:v1`,
  mirror: `${MIRROR}/team/app:v1`,
  foreign: `${FOREIGN}/team/tool:v1`,
};
const CACHE_DIR = "/var/cache/ecr-credential-provider"; // the plugin's default, inside our /var overlay
const WRONG_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY0";
/** A histogram bucket of the kubelet's (seconds): far below the plugin's 55 s deadline, generous for a loaded machine. */
const FAST_EXEC_S = "10";

// Passwords the fake ECR issues and the registries' htpasswd holds, per registry; a generation
// bumps when a password rotates.
const salt = randomBytes(6).toString("hex");
const generation = new Map<string, number>();
const passwordFor = (service: "ecr" | "ecr-public", region: string) => `${service}-${region}-g${generation.get(`${service}/${region}`) ?? 1}-${salt}`;

let pki: Pki;
let fake: FakeAws;
const fakeOpts: FakeAwsOptions = { passwordFor };
const registries: Record<"private" | "public" | "mirror" | "foreign", Registry> = {} as never;
let pauseTar: string;
let providerConfig: string;
let binDir: string;

before(async () => {
  pki = makePki(path.join(S, "pki"), [ECR, PUBLIC, MIRROR, FOREIGN]);
  fake = await startFakeAws(fakeOpts);
  registries.private = new Registry(ECR, "127.0.0.10", pki, S);
  registries.public = new Registry(PUBLIC, "127.0.0.11", pki, S);
  registries.mirror = new Registry(MIRROR, "127.0.0.12", pki, S);
  registries.foreign = new Registry(FOREIGN, "127.0.0.13", pki, S);
  await registries.private.start(passwordFor("ecr", "us-east-1"));
  await registries.public.start(passwordFor("ecr-public", "us-east-1"));
  await registries.mirror.start(passwordFor("ecr", "eu-west-1"));
  await registries.foreign.start(undefined);
  const images = path.join(S, "images");
  for (const [k, r] of Object.entries(registries)) {
    const layout = path.join(images, k);
    makeImage(layout, { message: `image ${k}`, tag: "v1" });
    r.push(layout, "v1", k === "foreign" ? "team/tool" : "team/app");
  }
  // The pause image: the kubernetes module's pause.c, static, imported into containerd with ctr.
  const pause = path.join(images, "pause");
  makeImage(pause, {
    files: { pause: { src: env.pause, mode: 0o755 } },
    entrypoint: ["/pause"],
    tag: env.pauseTag,
    name: `registry.k8s.io/pause:${env.pauseTag}`,
  });
  pauseTar = path.join(images, "pause.tar");
  run("tar", ["-C", pause, "-cf", pauseTar, "."]);

  // The provider config the node kit writes (install.sh), with an alias for the mirror host.
  providerConfig = path.join(S, "credential-provider-config.yaml");
  fs.writeFileSync(
    providerConfig,
    run("sh", [path.join(env.repo, "node-config/install.sh"), "--print-config", "--binary", env.plugin, `--registry-alias=${MIRROR}=${ECR_MIRROR_TARGET}`]),
  );
  binDir = path.join(S, "provider-bin");
  fs.mkdirSync(binDir, { recursive: true });
  fs.copyFileSync(env.plugin, path.join(binDir, "ecr-credential-provider"));
  fs.chmodSync(path.join(binDir, "ecr-credential-provider"), 0o755);
});

after(async () => {
  for (const r of Object.values(registries)) await r?.stop();
  await fake?.close();
});

/** The kubelet's environment: a PATH without /usr/sbin (no iptables), AWS pointed at the fake. */
function kubeletEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...fakeAwsEnv(fake),
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: "/root",
    TMPDIR: process.env.TMPDIR ?? S,
    AWS_EC2_METADATA_DISABLED: "true",
    ...extra,
  };
}

function clearPluginCache(): void {
  fs.rmSync(CACHE_DIR, { recursive: true, force: true });
}

/** Every secret the run knows: none may appear in a log. */
function secrets(): string[] {
  return [TEST_CREDENTIALS.secretAccessKey, WRONG_SECRET, ...fake.issuedPasswords, ...Object.values(registries).map((r) => r.password ?? "")].filter(
    (s) => s.length >= 8,
  );
}
function assertNoSecret(where: string, text: string): void {
  for (const s of secrets()) assert.ok(!text.includes(s), `${where} contains a secret (${s.slice(0, 6)}…)`);
}

/** Positions in every log, so a scenario's assertions see only its own lines. */
interface Marks {
  calls: number;
  kubelet: number;
  reg: Record<string, number>;
}

class Node {
  readonly dir: string;
  readonly manifests: string;
  readonly podLogs: string;
  readonly containerd: Containerd;
  readonly kubelet: Kubelet;
  private readonly configPath: string;
  constructor(readonly flavour: ContainerdFlavour) {
    this.dir = path.join(S, "node-" + flavour);
    this.manifests = path.join(this.dir, "manifests");
    this.podLogs = path.join(this.dir, "pod-logs");
    fs.mkdirSync(this.manifests, { recursive: true });
    this.containerd = new Containerd(flavour, this.dir, pki, [ECR, PUBLIC, MIRROR, FOREIGN]);
    this.kubelet = new Kubelet(this.dir);
    this.configPath = path.join(this.dir, "kubelet-config.yaml");
    fs.writeFileSync(this.configPath, kubeletConfigYaml({ dir: this.dir, endpoint: this.containerd.sock, manifests: this.manifests }));
  }

  argv(): string[] {
    return [
      env.kubelet,
      `--config=${this.configPath}`,
      `--root-dir=${this.dir}/kubelet-root`,
      `--cert-dir=${this.dir}/kubelet-pki`,
      `--image-credential-provider-config=${providerConfig}`,
      `--image-credential-provider-bin-dir=${binDir}`,
      "--hostname-override=node-test",
      "--node-ip=127.0.0.1",
      "--v=5",
    ];
  }

  async startKubelet(extraEnv: Record<string, string> = {}, argv = this.argv()): Promise<void> {
    await this.kubelet.start(argv, kubeletEnv(extraEnv));
  }

  marks(): Marks {
    return { calls: fake.calls.length, kubelet: this.kubelet.size(), reg: Object.fromEntries(Object.entries(registries).map(([k, r]) => [k, r.size()])) };
  }

  /**
   * Remove all static pods and wait until the kubelet has no pods left and containerd runs none of
   * their containers (when the kubelet runs). The kubelet drops a pod from its list before it has
   * stopped the containers: a kubelet stopped then leaves them running, and the next one adopts
   * them for an identical pod (same UID) without pulling or running the plugin.
   */
  async clearPods(): Promise<void> {
    for (const f of fs.readdirSync(this.manifests)) fs.rmSync(path.join(this.manifests, f));
    if (!this.kubelet.proc) return;
    await waitFor(
      "pods gone",
      () => this.kubelet.pods()?.length === 0,
      60_000,
      () => JSON.stringify(this.kubelet.pods()),
    );
    await waitFor(
      "pods' containers stopped",
      () => this.containerd.runningTasks().length === 0,
      60_000,
      () => `running tasks: ${this.containerd.runningTasks().join(" ")}`,
    );
  }

  pod(name: string) {
    return this.kubelet.pods()?.find((p) => p.name === `${name}-node-test`);
  }

  /** Wait until every container of pod `name` runs and printed its line; returns the lines. */
  async running(name: string, containers: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    await waitFor(
      `pod ${name} running`,
      () => {
        for (const c of containers) {
          const text = containerOutput(this.podLogs, name, c);
          if (!text.includes(` in ${name}/${c}`)) return false;
          out[c] = text;
        }
        return true;
      },
      90_000,
      () => `pods: ${JSON.stringify(this.kubelet.pods())}\nkubelet log tail:\n${this.kubelet.text().slice(-3000)}`,
    );
    return out;
  }

  /** Wait until container `c` of pod `name` is waiting with an image pull error. */
  async pullFailed(name: string, c: string): Promise<string> {
    const st = await waitFor(
      `pod ${name}/${c} pull failure`,
      () => {
        const cs = this.pod(name)?.containers.find((x) => x.name === c);
        return cs && (cs.waiting === "ErrImagePull" || cs.waiting === "ImagePullBackOff") ? cs : undefined;
      },
      90_000,
      () => `pods: ${JSON.stringify(this.kubelet.pods())}\nkubelet log tail:\n${this.kubelet.text().slice(-3000)}`,
    );
    return st.message ?? "";
  }

  newCalls(m: Marks) {
    return fake.calls.slice(m.calls).filter((c) => c.service === "ecr" || c.service === "ecr-public");
  }
  kubeletSince(m: Marks): string {
    return this.kubelet.text(m.kubelet);
  }

  async stop(): Promise<void> {
    await this.clearPods().catch(() => undefined);
    await this.kubelet.stop();
    await this.containerd.stop();
  }
}

/** The image line a container printed: "image <registry> in <pod>/<container>". */
function assertOutput(out: Record<string, string>, c: string, registry: string, pod: string): void {
  assert.match(out[c] ?? "", new RegExp(`image ${registry} in ${pod}/${c}`), `container ${pod}/${c} output`);
}

/** Scenario 1 (+7): the ECR image pulled with the plugin's credentials; a foreign image in the same pod is never sent to the plugin. */
async function ecrPodWithForeign(node: Node): Promise<void> {
  const m = node.marks();
  writePod(node.manifests, "app", [
    { name: "app", image: IMG.private },
    { name: "tool", image: IMG.foreign },
  ]);
  const out = await node.running("app", ["app", "tool"]);
  assertOutput(out, "app", "private", "app");
  assertOutput(out, "tool", "foreign", "app");

  // fake AWS: exactly one GetAuthorizationToken, for us-east-1, signed with the node's key.
  const calls = node.newCalls(m);
  assert.equal(calls.length, 1, `ECR calls: ${JSON.stringify(calls)}`);
  assert.deepEqual([calls[0]!.service, calls[0]!.region, calls[0]!.accessKeyId, calls[0]!.status], ["ecr", "us-east-1", TEST_CREDENTIALS.accessKeyId, 200]);

  // the kubelet ran the plugin once, for the ECR image only.
  const klog = node.kubeletSince(m);
  assert.equal(pluginExecs(klog, IMG.private).length, 1, "plugin runs for the ECR image");
  assert.equal(pluginExecs(klog, IMG.foreign).length, 0, "the foreign image must not reach the plugin (matchImages)");
  assert.equal(pluginExecs(klog).length, 1, "plugin runs in total");

  // the registries: ECR served user AWS (the fake's password); the foreign one an anonymous pull.
  const priv = registries.private.manifestRequests("team/app", m.reg.private);
  assert.ok(
    priv.some((r) => r.status === 200),
    `private registry log:\n${priv.map((r) => r.line).join("\n")}`,
  );
  const foreign = registries.foreign.manifestRequests("team/tool", m.reg.foreign);
  assert.ok(
    foreign.some((r) => r.status === 200),
    `foreign registry log:\n${foreign.map((r) => r.line).join("\n")}`,
  );
}

/** Scenario 8: ECR Public and a mirror host aliased to an ECR registry in another region. */
async function publicAndAlias(node: Node): Promise<void> {
  const m = node.marks();
  writePod(node.manifests, "public", [
    { name: "pub", image: IMG.public },
    { name: "mirror", image: IMG.mirror },
  ]);
  const out = await node.running("public", ["pub", "mirror"]);
  assertOutput(out, "pub", "public", "public");
  assertOutput(out, "mirror", "mirror", "public");
  const calls = node
    .newCalls(m)
    .map((c) => `${c.service} ${c.region} ${c.signingService} ${c.status}`)
    .sort();
  assert.deepEqual(calls, ["ecr eu-west-1 ecr 200", "ecr-public us-east-1 ecr-public 200"]);
  const klog = node.kubeletSince(m);
  assert.equal(pluginExecs(klog, IMG.public).length, 1);
  assert.equal(pluginExecs(klog, IMG.mirror).length, 1);
  for (const k of ["public", "mirror"] as const) {
    const reqs = registries[k].manifestRequests("team/app", m.reg[k]);
    assert.ok(
      reqs.some((r) => r.status === 200),
      `${k} registry log:\n${reqs.map((r) => r.line).join("\n")}`,
    );
  }
}

/** Scenario 3: kubelet restarted (empty in-memory cache), the plugin's disk cache warm: no AWS call. */
async function restartWarm(node: Node): Promise<void> {
  await node.clearPods();
  await node.kubelet.stop();
  const m = node.marks();
  await node.startKubelet();
  writePod(node.manifests, "again", [{ name: "app", image: IMG.private }]);
  const out = await node.running("again", ["app"]);
  assertOutput(out, "app", "private", "again");
  assert.equal(pluginExecs(node.kubeletSince(m), IMG.private).length, 1, "the new kubelet ran the plugin");
  assert.deepEqual(node.newCalls(m), [], "warm disk cache: no AWS call");
  const reqs = registries.private.manifestRequests("team/app", m.reg.private);
  assert.ok(
    reqs.some((r) => r.status === 200),
    "authenticated pull after restart",
  );
}

/**
 * Scenario 4: the registry password rotates early (the fake issues a new token, the registry
 * refuses the old one). The kubelet keeps answering from its in-memory cache (no plugin run, the
 * pull fails); a restarted kubelet runs the plugin, whose disk cache still holds the old token
 * (it cannot see a registry's 401); once that entry is gone a fresh run fetches the new token.
 */
async function rotation(node: Node): Promise<void> {
  generation.set("ecr/us-east-1", (generation.get("ecr/us-east-1") ?? 1) + 1);
  await registries.private.start(passwordFor("ecr", "us-east-1"));
  let m = node.marks();
  writePod(node.manifests, "rot1", [{ name: "app", image: IMG.private }]);
  const msg = await node.pullFailed("rot1", "app");
  assert.match(msg, /401|nauthorized|authoriz/i, "pull error names the refusal");
  assert.equal(pluginExecs(node.kubeletSince(m)).length, 0, "kubelet in-memory cache: plugin not run");
  assert.deepEqual(node.newCalls(m), [], "no AWS call");
  const refused = registries.private.manifestRequests("team/app", m.reg.private);
  assert.ok(refused.length > 0 && refused.every((r) => r.status === 401), `registry refused the old password:\n${refused.map((r) => r.line).join("\n")}`);

  // A fresh kubelet: the plugin runs, but its disk cache still serves the old (unexpired) token.
  await node.clearPods();
  await node.kubelet.stop();
  m = node.marks();
  await node.startKubelet();
  writePod(node.manifests, "rot2", [{ name: "app", image: IMG.private }]);
  await node.pullFailed("rot2", "app");
  assert.equal(pluginExecs(node.kubeletSince(m), IMG.private).length, 1, "fresh kubelet ran the plugin");
  assert.deepEqual(node.newCalls(m), [], "disk cache answered: no AWS call, still the old token");

  // Operator's remedy (or the entry reaching its refresh point): the cache entry removed.
  await node.clearPods();
  await node.kubelet.stop();
  clearPluginCache();
  m = node.marks();
  await node.startKubelet();
  writePod(node.manifests, "rot3", [{ name: "app", image: IMG.private }]);
  const out = await node.running("rot3", ["app"]);
  assertOutput(out, "app", "private", "rot3");
  const calls = node.newCalls(m);
  assert.equal(calls.length, 1, "one fresh AWS call");
  assert.equal(calls[0]!.status, 200);
  const ok = registries.private.manifestRequests("team/app", m.reg.private);
  assert.ok(
    ok.some((r) => r.status === 200),
    "new password accepted",
  );
}

/** Scenario 5: AWS fails while the cached token is still valid: the plugin answers with it (stale-if-error). */
async function staleIfError(node: Node): Promise<void> {
  // A 50-minute token is never "fresh" by the plugin's rule (more than an hour left), so every
  // run tries to refresh it, and falls back to it while it has life left.
  fakeOpts.tokenLifetimeMs = 50 * 60_000;
  try {
    await node.clearPods();
    await node.kubelet.stop();
    clearPluginCache();
    let m = node.marks();
    await node.startKubelet();
    writePod(node.manifests, "stale1", [{ name: "app", image: IMG.private }]);
    await node.running("stale1", ["app"]);
    assert.equal(node.newCalls(m).length, 1, "first run fetched a token");

    await node.clearPods();
    await node.kubelet.stop();
    fake.setEcrMode({ kind: "error", status: 500, type: "ServerException", message: "injected outage" });
    m = node.marks();
    await node.startKubelet();
    writePod(node.manifests, "stale2", [{ name: "app", image: IMG.private }]);
    const out = await node.running("stale2", ["app"]);
    assertOutput(out, "app", "private", "stale2");
    const calls = node.newCalls(m);
    assert.ok(calls.length >= 1 && calls.every((c) => c.status === 500), `AWS failed: ${JSON.stringify(calls.map((c) => c.status))}`);
    assert.equal(pluginExecs(node.kubeletSince(m), IMG.private).length, 1);
    assert.doesNotMatch(node.kubeletSince(m), /Failed to provide credentials for image/);
    const reqs = registries.private.manifestRequests("team/app", m.reg.private);
    assert.ok(
      reqs.some((r) => r.status === 200),
      "pull with the cached token",
    );
  } finally {
    fake.setEcrMode({ kind: "ok" });
    delete fakeOpts.tokenLifetimeMs;
  }
}

/**
 * Scenario 6: wrong AWS credentials: our one stderr line in the kubelet log, the pull fails, no
 * secret anywhere. Every exec fails fast with the refusal (a 403 is not retried; the kubelet's own
 * duration histogram shows it), not only the first: the kubelet retries the pull after its back-off.
 */
async function wrongCredentials(node: Node): Promise<void> {
  await node.clearPods();
  await node.kubelet.stop();
  clearPluginCache();
  const m = node.marks();
  await node.startKubelet({ AWS_SECRET_ACCESS_KEY: WRONG_SECRET });
  writePod(node.manifests, "wrong", [{ name: "app", image: IMG.private }]);
  await node.pullFailed("wrong", "app");
  await waitFor(
    "a second plugin exec (the kubelet's pull retry)",
    () => node.kubelet.pluginMetrics().execs >= 2,
    90_000,
    () => JSON.stringify(node.kubelet.pluginMetrics()),
  );
  await node.clearPods(); // no further pulls: the counts below are final
  const metrics = node.kubelet.pluginMetrics(undefined, FAST_EXEC_S);
  const calls = node.newCalls(m);
  assert.ok(metrics.execs >= 2 && metrics.errors === metrics.execs, `every exec failed: ${JSON.stringify(metrics)}`);
  // The plugin's deadline is 55 s; a refused signature must not be retried towards it.
  assert.equal(metrics.fast, metrics.execs, `every exec ended within ${FAST_EXEC_S} s (kubelet's histogram): ${JSON.stringify(metrics)}`);
  assert.equal(calls.length, metrics.execs, `one AWS call per exec, no retry: ${JSON.stringify(calls.map((c) => [c.status, c.rejected]))}`);
  assert.ok(
    calls.every((c) => c.status === 403),
    `fake refused the signature: ${JSON.stringify(calls.map((c) => [c.status, c.rejected]))}`,
  );

  // What the plugin prints for the same request, run directly with the same environment.
  const direct = await runAsync(path.join(binDir, "ecr-credential-provider"), [`--registry-alias=${MIRROR}=${ECR_MIRROR_TARGET}`], {
    input: JSON.stringify({ apiVersion: "credentialprovider.kubelet.k8s.io/v1", kind: "CredentialProviderRequest", image: IMG.private }),
    env: kubeletEnv({ AWS_SECRET_ACCESS_KEY: WRONG_SECRET, ECR_CREDENTIAL_PROVIDER_NO_CACHE: "1" }),
  });
  assert.notEqual(direct.code, 0, "the plugin succeeded with a wrong secret key");
  const stderr = direct.stderr;
  const line = stderr.trimEnd();
  assert.ok(line && !line.includes("\n"), `plugin stderr is one line: ${JSON.stringify(stderr)}`);
  assert.match(line, /^ecr-credential-provider: access_denied: .*InvalidSignatureException/);
  // klog prints the error as a block: `err=<`, the plugin's output after "exit status N: ", ` > provider=…`.
  const klog = node.kubeletSince(m);
  const carried = [...klog.matchAll(/"Failed to provide credentials for image" err=<\n[^\n]*exit status \d+: ([^\n]*)\n > provider=/g)].map((x) => x[1]!);
  assert.equal(carried.length, metrics.execs, "kubelet logged every plugin failure with the plugin's output");
  for (const c of carried) assert.equal(c, line, "each carried message is our one stderr line");
  const reqs = registries.private.manifestRequests("team/app", m.reg.private);
  assert.ok(reqs.length > 0 && reqs.every((r) => r.status === 401), `registry saw only unauthenticated requests:\n${reqs.map((r) => r.line).join("\n")}`);

  assertNoSecret("plugin stderr", stderr);
  assertNoSecret("kubelet log", node.kubelet.text());
  assertNoSecret("containerd log", read(node.containerd.log));
  for (const [k, r] of Object.entries(registries)) assertNoSecret(`${k} registry log`, read(r.log));
}

/**
 * Scenario 2: the kubelet started exactly as systemd would start it from what install.sh wrote into
 * a root of a distribution's real unit files (nodekit.ts; argv from test/kubelet's unit-argv).
 */
async function nodeKit(node: Node, profile: Profile): Promise<void> {
  await node.clearPods();
  await node.kubelet.stop();
  clearPluginCache();
  const kit = nodeKitArgv({
    profile,
    scratch: path.join(S, "nodekit-" + profile),
    installer: path.join(env.repo, "node-config/install.sh"),
    plugin: env.plugin,
    kubelet: env.kubelet,
    unitArgvTool: env.unitArgv,
    kubeletConfig: kubeletConfigYaml({ dir: node.dir, endpoint: node.containerd.sock, manifests: node.manifests }),
    registryAlias: `${MIRROR}=${ECR_MIRROR_TARGET}`,
  });
  try {
    // install.sh added our two flags and changed nothing else systemd passes.
    assert.deepEqual(withoutOurFlags(kit.after.argv), kit.before.argv, `argv before/after install.sh (${NODE_OF[profile]})`);
    assert.ok(fs.existsSync(path.join(kit.root, kit.config)), `${kit.config} written under the root`);
    assert.ok(fs.existsSync(path.join(kit.root, kit.binDir, "ecr-credential-provider")), `the executable in ${kit.binDir}`);

    const m = node.marks();
    await node.startKubelet({}, kit.argv);
    const pod = `kit-${profile}`; // a name of its own: an identical pod would have the same UID and pod-log directory as another scenario's
    writePod(node.manifests, pod, [
      { name: "app", image: IMG.private },
      { name: "mirror", image: IMG.mirror },
    ]);
    const out = await node.running(pod, ["app", "mirror"]);
    assertOutput(out, "app", "private", pod);
    assertOutput(out, "mirror", "mirror", pod);
    // The kubelet's own count (its metrics, whatever the unit's --v): one exec per registry, none failed.
    const { execs, errors } = node.kubelet.pluginMetrics();
    assert.deepEqual({ execs, errors }, { execs: 2, errors: 0 }, "the kubelet ran the installed plugin for both images");
    assert.deepEqual(
      node
        .newCalls(m)
        .map((c) => `${c.service} ${c.region} ${c.accessKeyId} ${c.status}`)
        .sort(),
      [`ecr eu-west-1 ${TEST_CREDENTIALS.accessKeyId} 200`, `ecr us-east-1 ${TEST_CREDENTIALS.accessKeyId} 200`],
    );
    for (const k of ["private", "mirror"] as const) {
      const reqs = registries[k].manifestRequests("team/app", m.reg[k]);
      assert.ok(
        reqs.some((r) => r.status === 200),
        `${k} registry served the pull:\n${reqs.map((r) => r.line).join("\n")}`,
      );
    }
  } finally {
    // The kit's kubelet has a kubeconfig for an API server that is not there: its API source never
    // becomes ready, and such a kubelet never stops a removed static pod (kubelet.go deletePod and
    // housekeeping skip while sources are not ready). Hand the node back to the standalone kubelet,
    // which stops the orphaned containers, so no later kubelet adopts them.
    for (const f of fs.readdirSync(node.manifests)) fs.rmSync(path.join(node.manifests, f));
    await node.kubelet.stop();
    kit.unmount();
    await node.startKubelet();
    await node.clearPods();
  }
}

for (const flavour of ["2", "1.6"] as const) {
  describe(`containerd ${flavour}`, { concurrency: false }, () => {
    let node: Node;
    before(async () => {
      node = new Node(flavour);
      await node.containerd.start(pauseTar);
      clearPluginCache();
      await node.startKubelet();
    });
    after(async () => {
      await node?.stop();
    });

    test("1+7. ECR image pulled with the plugin's credentials and run; a foreign image in the same pod never reaches the plugin", () =>
      ecrPodWithForeign(node));
    test("8. ECR Public and a registry alias (mirror host in matchImages and --registry-alias)", () => publicAndAlias(node));
    test("3. kubelet restart with the plugin's disk cache warm: no AWS call, the pull succeeds", () => restartWarm(node));
    if (flavour === "2") {
      test("4. password rotated early: kubelet memory cache keeps the old one; a fresh exec recovers once the disk entry is gone", () => rotation(node));
      test("5. AWS failing, cached token still valid: the pull succeeds (stale-if-error)", () => staleIfError(node));
      test("6. wrong AWS credentials: our one stderr line in the kubelet log, the pull fails, no secret in any log", () => wrongCredentials(node));
      test("2a. kubelet started from what install.sh wrote (kubeadm profile: kubeadm's DEB unit and drop-in, systemd's argv)", () => nodeKit(node, "kubeadm"));
      test("2b. kubelet started from what install.sh wrote (generic profile: a hand-written multi-line unit, systemd's argv)", () => nodeKit(node, "generic"));
    }
  });
}

void removePod;
