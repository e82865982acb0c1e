// Discrete-event simulation of a fleet scaling out: N nodes boot within a window, each kubelet runs
// an ECR credential provider for the images of a realistic node start, against ECR's token bucket
// per account and Region. Virtual clock: nothing waits for real. Our plugin is our REAL code
// (provide(), the real token cache of src/cache/ with its lock protocol, withRetries with the
// production policy), given a virtual clock, a virtual sleep, a seeded random source and, per node,
// an in-memory file system and process table (test/helpers/mem-fs.ts); the kubelet and the Go plugin
// are models of their source (docs: /work/shared/docs/fleet-model.md, summarised in README
// "At fleet scale").

import { createLogger } from "../../src/core/log.ts";
import { provide, type FetchedToken, type TokenStore } from "../../src/core/provider.ts";
import { UpstreamError } from "../../src/core/errors.ts";
import { lockWaitFor, openTokenCache } from "../../src/cache/token-cache.ts";
import type { SetTimer } from "../../src/cache/cache-io.ts";
import { DEFAULT_TIMEOUT_MS } from "../../src/core/config.ts";
import { DEFAULT_CACHE_DIR } from "../../src/core/flags.ts";
import { MemFs, type MemProcess } from "../../test/helpers/mem-fs.ts";
import { retryLikeEcr } from "./policy.ts";
import type { CredentialPlan } from "../../src/core/credential-plan.ts";

// ---------------------------------------------------------------------------------------------
// Engine

/** Seeded PRNG (mulberry32): every run of a scenario is the same run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Ev {
  t: number;
  seq: number;
  fn: () => void;
  cancelled?: boolean;
}

/** Event queue (binary heap on time, then insertion order) and the virtual clock, in ms. */
export class Clock {
  now = 0;
  private heap: Ev[] = [];
  /** Cancelled events still in the heap. */
  private dead = 0;
  private seq = 0;
  events = 0;

  at(t: number, fn: () => void): Ev {
    const e: Ev = { t: Math.max(t, this.now), seq: this.seq++, fn };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, e)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
    return e;
  }

  after(ms: number, fn: () => void): Ev {
    return this.at(this.now + ms, fn);
  }

  /** Drop a scheduled event (a timer that is no longer needed). */
  cancel(e: Ev): void {
    if (e.cancelled) return;
    e.cancelled = true;
    e.fn = noop; // release what the closure holds while the event waits in the heap
    // Cancelled timers (deadlines, kills, lock polls) would otherwise crowd the heap until due.
    if (++this.dead > 1024 && this.dead > this.heap.length / 2) this.compact();
  }

  /** Drop the cancelled events and restore the heap order (sift down from the last parent). */
  private compact(): void {
    const h = (this.heap = this.heap.filter((e) => !e.cancelled));
    this.dead = 0;
    for (let i = (h.length >> 1) - 1; i >= 0; i--) this.siftDown(h[i]!, i);
  }

  /** A timer on the virtual clock, as the token cache takes it (`setTimer`): returns its cancel. */
  timer: SetTimer = (ms, fire) => {
    const e = this.after(ms, fire);
    return () => this.cancel(e);
  };

  /** A sleep on the virtual clock, with withRetries' signature (rejects when the signal aborts). */
  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      let done = false;
      const onAbort = () => {
        if (done) return;
        done = true;
        this.cancel(ev);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const ev = this.after(ms, () => {
        if (done) return;
        done = true;
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });

  private pop(): Ev | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) this.siftDown(last, 0);
    if (top.cancelled) this.dead--;
    return top;
  }

  /** Put `e` at `i` and move it down until both children are later. */
  private siftDown(e: Ev, i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && less(h[r]!, h[l]!) ? r : l;
      if (less(e, h[c]!)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = e;
  }

  /**
   * Run events until `until` (ms) or until `stop()` says so. After each event the microtask queue
   * is drained (our code is async), so continuations run at the virtual time of their cause.
   */
  async run(until: number, stop: () => boolean): Promise<void> {
    for (;;) {
      const e = this.pop();
      if (!e || e.t > until) break;
      if (e.cancelled) continue;
      this.now = e.t;
      this.events++;
      e.fn();
      await new Promise<void>((r) => process.nextTick(r));
      if (stop()) break;
    }
  }
}

/**
 * A minimal AbortController: what withRetries and the virtual sleep use of one (`aborted`,
 * `reason`, abort listeners). Node's EventTarget-based one costs ~20 µs each, and the simulation
 * makes two per exec.
 */
export class LiteAbort {
  aborted = false;
  reason: unknown;
  private listeners: (() => void)[] = [];
  get signal(): AbortSignal {
    return this as unknown as AbortSignal;
  }
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const l = this.listeners;
    this.listeners = [];
    for (const f of l) f();
  }
  addEventListener(_: "abort", f: () => void): void {
    this.listeners.push(f);
  }
  removeEventListener(_: "abort", f: () => void): void {
    const i = this.listeners.indexOf(f);
    if (i >= 0) this.listeners.splice(i, 1);
  }
}

const noop = () => undefined;

function less(a: Ev, b: Ev): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

// ---------------------------------------------------------------------------------------------
// ECR: a token bucket per (account, Region), refilled at rate × (1 − background share)

export interface Quota {
  /** Requests per second (ECR private: 500; legacy page: 20). */
  rate: number;
  /** Bucket capacity (undocumented for the 500/s quota: swept). 0 means a pure rate limit (capacity 1). */
  burst: number;
  /** Share of the rate other load in the account takes (0 … 0.5). */
  background: number;
}

export class Bucket {
  private level: number;
  private last = 0;
  private readonly cap: number;
  private readonly refill: number;
  calls = 0;
  throttled = 0;
  constructor(q: Quota) {
    this.cap = Math.max(1, q.burst);
    this.refill = (q.rate * (1 - q.background)) / 1000;
    // The other load has been drawing all along: the bucket starts where it would settle (full
    // when the rest of the rate is unused).
    this.level = this.cap;
  }
  private update(now: number): void {
    this.level = Math.min(this.cap, this.level + (now - this.last) * this.refill);
    this.last = now;
  }
  /** A call arriving now: true = served, false = ThrottlingException (no token consumed: assumption). */
  take(now: number): boolean {
    this.calls++;
    this.update(now);
    if (this.level >= 1) {
      this.level -= 1;
      return true;
    }
    this.throttled++;
    return false;
  }
  /** The quota-bound client: calls queue FIFO for a token and are never refused; returns the wait in ms. */
  reserve(now: number): number {
    this.calls++;
    this.update(now);
    this.level -= 1;
    return this.level >= 0 ? 0 : -this.level / this.refill;
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario: what each node pulls, and when

export interface Scenario {
  nodes: number;
  /** Nodes' kubelets start uniformly within this window (s). */
  windowS: number;
  /** Workload images from a second Region on half the nodes. */
  twoRegions: boolean;
  quota: Quota;
  /** ECR Public: one bucket per account, us-east-1 only, 200/s. */
  publicQuota: Quota;
  seed: number;
  /** Stop the virtual clock here (s after the window opens). */
  horizonS: number;
  /** "wave1": only the host-network DaemonSets' first images (the real-process check uses it). */
  shape?: "node-start" | "wave1";
}

export type PluginKind = "ours" | "go" | "bound";

interface Pod {
  images: string[];
  /** Next container to start. */
  next: number;
}

interface NodeModel {
  start: number;
  pods: { at: number; pod: Pod; wave: 1 | 2 | 3 }[];
  hosts: Set<string>;
}

const R1 = "us-west-2";
const R2 = "eu-west-1";
const EKS = (r: string) => `602401143452.dkr.ecr.${r}.amazonaws.com`;
const USER = (r: string) => `111122223333.dkr.ecr.${r}.amazonaws.com`;
const PUBLIC = "public.ecr.aws";

/**
 * One node's start (fleet-model.md §4): host-network DaemonSets first (aws-node: init + 2
 * containers; kube-proxy; eks-pod-identity-agent: init + main, same image), from the EKS add-on
 * account in the node's Region; then, once the CNI is ready, ebs-csi-node from ECR Public (Helm
 * default); then 1–3 workload pods from the user's registry, the last one in a second Region on
 * half the nodes when `twoRegions`.
 */
function layout(s: Scenario, r: () => number, i: number): NodeModel {
  const start = s.windowS * 1000 * r();
  void i;
  const u = (a: number, b: number) => a + (b - a) * r();
  // The DaemonSet pods reach the kubelet together (one list/watch after registration), 0.5–3 s after it starts.
  const ds = u(500, 3000);
  const pods: NodeModel["pods"] = [
    {
      at: ds + u(0, 200),
      wave: 1,
      pod: {
        next: 0,
        images: [`${EKS(R1)}/amazon-k8s-cni-init:v1.20.4`, `${EKS(R1)}/amazon-k8s-cni:v1.20.4`, `${EKS(R1)}/amazon/aws-network-policy-agent:v1.2.7`],
      },
    },
    { at: ds + u(0, 200), wave: 1, pod: { next: 0, images: [`${EKS(R1)}/eks/kube-proxy:v1.33.0-eksbuild.2`] } },
    {
      at: ds + u(0, 200),
      wave: 1,
      pod: { next: 0, images: [`${EKS(R1)}/eks/eks-pod-identity-agent:v0.1.29`, `${EKS(R1)}/eks/eks-pod-identity-agent:v0.1.29`] },
    },
    {
      at: 0,
      wave: 2,
      pod: {
        next: 0,
        images: [
          `${PUBLIC}/ebs-csi-driver/aws-ebs-csi-driver:v1.45.0`,
          `${PUBLIC}/eks-distro/kubernetes-csi/node-driver-registrar:v2.14.0`,
          `${PUBLIC}/eks-distro/kubernetes-csi/livenessprobe:v2.16.0`,
        ],
      },
    },
  ];
  if (s.shape === "wave1") {
    const first = pods.slice(0, 3).map((p) => ({ ...p, pod: { next: 0, images: p.pod.images.slice(0, 1) } }));
    return { start, pods: first, hosts: new Set([EKS(R1)]) };
  }
  const workloads = 1 + Math.floor(3 * r());
  const second = s.twoRegions && r() < 0.5;
  for (let w = 0; w < workloads; w++) {
    const region = second && w === workloads - 1 ? R2 : R1;
    pods.push({ at: 0, wave: 3, pod: { next: 0, images: [`${USER(region)}/app-${w}:1.0`] } });
  }
  const hosts = new Set(pods.flatMap((p) => p.pod.images.map(hostOf)));
  return { start, pods, hosts };
}

function hostOf(image: string): string {
  return image.slice(0, image.indexOf("/"));
}
function repoOf(image: string): string {
  const at = image.lastIndexOf(":");
  return at > image.indexOf("/") ? image.slice(0, at) : image;
}

// ---------------------------------------------------------------------------------------------
// The plugins

/** Per-exec start-up cost (measured, fleet-model.md §5): ours 40 ms to a cache hit, +50 ms to load the AWS side; Go 15 ms. */
const OURS_START_MS = 40;
const OURS_LAZY_MS = 50;
const GO_START_MS = 15;
/** API latency of one call, success or throttle (assumption: 30–150 ms). */
const latency = (r: () => number) => 30 + 120 * r();

/** The Go plugin's retryer: standard, 3 attempts, delay before retry k = U[0,1) × 2^k s (fleet-model.md §3). */
const GO_ATTEMPTS = 3;

export interface Result {
  plugin: PluginKind;
  ecrCalls: number;
  throttled: number;
  execs: number;
  failedExecs: number;
  killedExecs: number;
  errImagePull: number;
  /** Seconds from kubelet start to the node holding credentials for every registry it needs. */
  p50: number;
  p99: number;
  max: number;
  notDone: number;
  events: number;
  /** Ours: the wait between a throttled answer and the next attempt, for every such retry. */
  throttleRetryGapsMs: number[];
}

interface Kubelet {
  cache: Set<string>;
  inflight: Map<string, Promise<boolean>>;
  backoff: Map<string, { delay: number; last: number }>;
  left: number;
}

/**
 * The bound's node-wide store: the ideal single flight, not our cache. One call per key; every
 * other request for it gets the answer the moment it arrives (no lock file, no poll, no give-up).
 */
class IdealStore implements TokenStore {
  private readonly calls = new Map<string, Promise<FetchedToken>>();
  async get(key: string, fetch: () => Promise<FetchedToken>): Promise<FetchedToken & { fromCache: boolean }> {
    let call = this.calls.get(key);
    const fromCache = call !== undefined;
    if (!call) {
      call = fetch();
      this.calls.set(key, call);
      call.catch(() => this.calls.delete(key)); // a failure is not kept: the next request calls again
    }
    return { ...(await call), fromCache };
  }
}

const PLAN: CredentialPlan = { source: "default-chain", description: "node role", identity: "default|node-role" } as CredentialPlan;
const silent = createLogger({ level: "silent", format: "text", write: () => undefined, now: () => new Date(0) });
const TOKEN = Buffer.from("AWS:password").toString("base64");
const EPOCH = Date.UTC(2026, 10, 1);

export async function simulate(s: Scenario, plugin: PluginKind): Promise<Result> {
  // Throttle errors are created by the thousand; their stack traces are not needed.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await simulateInner(s, plugin);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

async function simulateInner(s: Scenario, plugin: PluginKind): Promise<Result> {
  const clock = new Clock();
  const layoutR = rng(s.seed);
  const r = rng(s.seed * 7919 + (plugin === "ours" ? 1 : plugin === "go" ? 2 : 3));
  // The token cache's lock-poll jitter draws from its own stream, so the other draws stay as they were.
  const cacheJitter = rng(s.seed * 7919 + 4);
  const buckets = new Map<string, Bucket>();
  const bucket = (region: string, isPublic: boolean) => {
    const k = isPublic ? "public" : region;
    let b = buckets.get(k);
    if (!b) buckets.set(k, (b = new Bucket(isPublic ? s.publicQuota : s.quota)));
    return b;
  };
  const res: Result = {
    plugin,
    ecrCalls: 0,
    throttled: 0,
    execs: 0,
    failedExecs: 0,
    killedExecs: 0,
    errImagePull: 0,
    p50: 0,
    p99: 0,
    max: 0,
    notDone: 0,
    events: 0,
    throttleRetryGapsMs: [],
  };
  const doneAt: number[] = [];

  /** One GetAuthorizationToken: resolves with a token, or rejects as the SDK adapter maps a throttle. */
  const call = (region: string, isPublic: boolean, signal?: AbortSignal): Promise<FetchedToken> => {
    const b = bucket(region, isPublic);
    const lat = latency(r);
    if (plugin === "bound") {
      const wait = b.reserve(clock.now);
      return clock
        .sleep(wait + lat, signal)
        .then(() => ({ authorizationToken: TOKEN, expiresAt: new Date(EPOCH + clock.now + 12 * 3600_000), endpoint: "sim" }));
    }
    const ok = b.take(clock.now);
    return clock.sleep(lat, signal).then(() => {
      if (!ok) throw new UpstreamError("throttled", "ECR GetAuthorizationToken was throttled (ThrottlingException)", { retryable: true });
      return { authorizationToken: TOKEN, expiresAt: new Date(EPOCH + clock.now + 12 * 3600_000), endpoint: "sim" };
    });
  };

  /** Our real token cache, opened as cli/main.ts opens it, by process `proc` on the node `disk`. */
  const openCache = (disk: MemFs, proc: MemProcess, signal: AbortSignal) =>
    openTokenCache({
      dir: DEFAULT_CACHE_DIR,
      log: silent,
      signal,
      now: () => new Date(EPOCH + clock.now),
      pid: proc.pid,
      isAlive: disk.isAlive,
      random: cacheJitter,
      lockWaitMs: lockWaitFor(DEFAULT_TIMEOUT_MS),
      fs: proc,
      setTimer: proc.setTimer,
    });

  /**
   * Our executable, one exec: real provide() with the node-wide token store `open` gives (ours: the
   * real cache on the node's in-memory disk; the bound: the ideal one) and the real retry policy,
   * on the virtual clock.
   */
  const oursExec = async (open: (signal: AbortSignal) => Promise<TokenStore | undefined>, image: string, killed: AbortSignal): Promise<boolean> => {
    const controller = new LiteAbort();
    const onKill = () => controller.abort(killed.reason);
    killed.addEventListener("abort", onKill, { once: true });
    // The bound has no deadline: it shows what the quota allows, whatever the wait.
    const deadline = clock.after(plugin === "bound" ? Infinity : DEFAULT_TIMEOUT_MS, () =>
      controller.abort(new UpstreamError("timeout", "overall deadline reached")),
    );
    const signal = controller.signal;
    try {
      await clock.sleep(OURS_START_MS, signal);
      const store = await open(signal);
      let loaded = false;
      const work = provide(
        { apiVersion: "credentialprovider.kubelet.k8s.io/v1", image },
        {
          aliases: new Map(),
          now: () => new Date(EPOCH + clock.now),
          log: silent,
          plan: () => PLAN,
          ...(store ? { cache: store } : {}),
          fetchToken: async (target) => {
            if (!loaded) {
              loaded = true;
              await clock.sleep(OURS_LAZY_MS, signal);
            }
            // Record how long each retry after a throttle waited (the regression test checks they are spread).
            let throttledAt: number | undefined;
            return withRetriesSim(async () => {
              if (throttledAt !== undefined) res.throttleRetryGapsMs.push(clock.now - throttledAt);
              throttledAt = undefined;
              try {
                return await call(target.region, target.kind === "public", signal);
              } catch (err) {
                if (err instanceof UpstreamError && err.code === "throttled") throttledAt = clock.now;
                throw err;
              }
            }, signal);
          },
        },
      );
      await raceAbort(work, signal);
      return true;
    } catch {
      return false;
    } finally {
      clock.cancel(deadline);
      killed.removeEventListener("abort", onKill);
      if (!signal.aborted) controller.abort(new Error("exited"));
    }
  };
  const withRetriesSim = <T>(fn: (attempt: number) => Promise<T>, signal: AbortSignal) => retryLikeEcr(fn, { signal, sleep: clock.sleep, random: r });

  /** The Go plugin, one exec: one GetAuthorizationToken through the SDK's standard retryer, no deadline of its own. */
  const goExec = async (image: string, killed: AbortSignal): Promise<boolean> => {
    const host = hostOf(image);
    const isPublic = host === PUBLIC;
    const region = isPublic ? "us-east-1" : host.split(".")[3]!;
    try {
      await clock.sleep(GO_START_MS, killed);
      for (let k = 1; ; k++) {
        try {
          await call(region, isPublic, killed);
          return true;
        } catch (err) {
          if (killed.aborted || k >= GO_ATTEMPTS) return false;
          await clock.sleep(r() * 2 ** k * 1000, killed);
        }
      }
    } catch {
      return false;
    }
  };

  const layouts = Array.from({ length: s.nodes }, (_, i) => layout(s, layoutR, i));
  let nodesLeft = s.nodes;

  for (const node of layouts) {
    const kubelet: Kubelet = { cache: new Set(), inflight: new Map(), backoff: new Map(), left: node.hosts.size };
    // The node's disk and process table: every exec of ours on it opens the real cache there.
    const disk = new MemFs(() => EPOCH + clock.now);
    const ideal = new IdealStore();

    /** kubelet: the provider's lookup (plugin.go): cache by registry host, singleflight by repository, 60 s exec kill, failures not cached. */
    const lookup = (image: string): Promise<boolean> => {
      const host = hostOf(image);
      if (kubelet.cache.has(host)) return Promise.resolve(true);
      const repo = repoOf(image);
      const running = kubelet.inflight.get(repo);
      if (running) return running;
      res.execs++;
      const kill = new LiteAbort();
      const proc = plugin === "ours" ? disk.spawn(clock.timer) : undefined;
      let timedOut = false;
      const timer = clock.after(plugin === "bound" ? Infinity : 60_000, () => {
        timedOut = true;
        proc?.exit(); // SIGKILL: whatever it holds (a lock) stays behind
        kill.abort(new Error("killed"));
      });
      const exec =
        plugin === "go" ? goExec(image, kill.signal) : oursExec(proc ? (signal) => openCache(disk, proc, signal) : async () => ideal, image, kill.signal);
      const p = exec.then((ok) => {
        clock.cancel(timer);
        // The process exits once what is pending in it has run (releasing its lock on the way), as
        // main.ts exits after stdout drains.
        if (proc) clock.after(0, () => proc.exit());
        kubelet.inflight.delete(repo);
        if (timedOut) res.killedExecs++;
        if (!ok || timedOut) {
          res.failedExecs++;
          return false;
        }
        if (!kubelet.cache.has(host)) {
          kubelet.cache.add(host);
          if (node.hosts.has(host) && --kubelet.left === 0) {
            doneAt.push((clock.now - node.start) / 1000);
            nodesLeft--;
          }
        }
        return true;
      });
      kubelet.inflight.set(repo, p);
      return p;
    };

    /** kubelet pod worker: containers in order; lookup BEFORE the back-off gate; resync U[10,15) s after a failed sync. */
    const sync = async (pod: Pod, onAllStarted: () => void): Promise<void> => {
      while (pod.next < pod.images.length) {
        const image = pod.images[pod.next]!;
        const creds = await lookup(image);
        const key = `${pod.next}|${image}`;
        const b = kubelet.backoff.get(key);
        if (b && clock.now - b.last < b.delay) {
          clock.after(10_000 + 5_000 * r(), () => void sync(pod, onAllStarted)); // ImagePullBackOff
          return;
        }
        if (!creds) {
          // Anonymous pull → 401 from private ECR (and ECR Public's authenticated quota is gone) → ErrImagePull.
          res.errImagePull++;
          kubelet.backoff.set(key, b ? { delay: Math.min(2 * b.delay, 300_000), last: clock.now } : { delay: 10_000, last: clock.now });
          clock.after(10_000 + 5_000 * r(), () => void sync(pod, onAllStarted));
          return;
        }
        await clock.sleep(1000 + 9000 * r()); // the pull itself
        pod.next++;
      }
      onAllStarted();
    };

    const t0 = node.start;
    let awsNodeUp = false;
    const wave1 = node.pods.filter((p) => p.wave === 1);
    const later = node.pods.filter((p) => p.wave !== 1);
    const cniReady = () => {
      // CNI ready 2–10 s after aws-node's containers run; DaemonSets then, workloads once the node is Ready (+1–5 s scheduling).
      const ready = 2000 + 8000 * r();
      const scheduled = ready + 1000 + 4000 * r();
      for (const p of later) clock.after(p.wave === 3 ? scheduled + 500 * r() : ready + 500 * r(), () => void sync(p.pod, () => undefined));
    };
    wave1.forEach((p, idx) =>
      clock.at(
        t0 + p.at,
        () =>
          void sync(p.pod, () => {
            if (idx === 0 && !awsNodeUp) {
              awsNodeUp = true;
              cniReady();
            }
          }),
      ),
    );
  }

  await clock.run(s.horizonS * 1000, () => nodesLeft === 0);
  for (const b of buckets.values()) {
    res.ecrCalls += b.calls;
    res.throttled += b.throttled;
  }
  res.notDone = nodesLeft;
  res.events = clock.events;
  doneAt.sort((a, b) => a - b);
  const pct = (p: number) => (nodesLeft > 0 && Math.ceil(p * s.nodes) > doneAt.length ? Infinity : doneAt[Math.max(0, Math.ceil(p * s.nodes) - 1)]!);
  res.p50 = pct(0.5);
  res.p99 = pct(0.99);
  res.max = nodesLeft > 0 ? Infinity : doneAt[doneAt.length - 1]!;
  return res;
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
