// The baseline every benchmark prints beside ours: the official Go plugin
// (k8s.io/cloud-provider-aws/cmd/ecr-credential-provider), pinned, built from the Go module proxy
// with the flags of its own Makefile. `go install` refuses the module (it has replace directives),
// so the module is downloaded and built inside its own directory, as the conformance harness does
// for the kubelet.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const GO_PLUGIN_MODULE = "k8s.io/cloud-provider-aws";
export const GO_PLUGIN_VERSION = "v1.37.1";
/** The module's go.sum hash (the checksum database vouches for it too): a different download is refused. */
const GO_PLUGIN_SUM = "h1:JAMF2Wp+/1Oeu/nonQAemEwSCQoW6mXlt273yyTM3dc=";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export type GoPlugin = { path: string; built: boolean } | { skipped: string };

function go(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): { ok: boolean; out: string; err: string } {
  const r = spawnSync("go", args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) return { ok: false, out: "", err: r.error.message };
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

/**
 * The Go plugin's executable: GO_PLUGIN_BIN if set; else the copy under .cache/ in this clone;
 * else the one in the user's cache directory (survives fresh clones, so CI repeat runs skip the
 * build); else built now (a minute on a cold Go build cache). `{ skipped }` says why there is none.
 */
export function goPlugin(log: (s: string) => void = (s) => console.error(s)): GoPlugin {
  if (process.env.GO_PLUGIN_BIN)
    return existsSync(process.env.GO_PLUGIN_BIN)
      ? { path: process.env.GO_PLUGIN_BIN, built: false }
      : { skipped: `GO_PLUGIN_BIN=${process.env.GO_PLUGIN_BIN} does not exist` };
  const v = go(["env", "GOVERSION", "GOOS", "GOARCH"]);
  if (!v.ok) return { skipped: `Go is not installed (${v.err.trim().split("\n")[0] || "go env failed"}); install Go to compare with the Go plugin` };
  const [goVersion, goos, goarch] = v.out.trim().split("\n");
  const key = `${GO_PLUGIN_VERSION}-${goVersion}-${goos}-${goarch}`;
  const local = join(ROOT, ".cache", "go-plugin", key, "ecr-credential-provider");
  const stable = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "ecr-credential-provider-bench", "go-plugin", key, "ecr-credential-provider");
  if (existsSync(local)) return { path: local, built: false };
  const place = (from: string) => {
    mkdirSync(dirname(local), { recursive: true });
    copyFileSync(from, local + ".tmp");
    renameSync(local + ".tmp", local);
  };
  if (existsSync(stable)) {
    place(stable);
    return { path: local, built: false };
  }
  log(`bench: building the Go plugin ${GO_PLUGIN_MODULE}/cmd/ecr-credential-provider@${GO_PLUGIN_VERSION} (${goVersion}) from the module proxy`);
  const dl = go(["mod", "download", "-json", `${GO_PLUGIN_MODULE}@${GO_PLUGIN_VERSION}`]);
  if (!dl.ok) return { skipped: `go mod download ${GO_PLUGIN_MODULE}@${GO_PLUGIN_VERSION} failed: ${dl.err.trim() || dl.out.trim()}` };
  const info = JSON.parse(dl.out) as { Dir?: string; Sum?: string; Error?: string };
  if (info.Error || !info.Dir) return { skipped: `go mod download: ${info.Error ?? "no module directory"}` };
  if (info.Sum !== GO_PLUGIN_SUM) return { skipped: `${GO_PLUGIN_MODULE}@${GO_PLUGIN_VERSION} has hash ${info.Sum}, pinned ${GO_PLUGIN_SUM}` };
  mkdirSync(dirname(stable), { recursive: true });
  const tmp = `${stable}.${process.pid}.tmp`;
  // The Makefile's flags; -mod=readonly: the module's own go.sum decides every dependency.
  const b = go(["build", "-mod=readonly", "-trimpath", "-ldflags", "-w -s", "-o", tmp, "./cmd/ecr-credential-provider"], {
    cwd: info.Dir,
    env: { CGO_ENABLED: "0", GOFLAGS: "" },
  });
  if (!b.ok) {
    rmSync(tmp, { force: true });
    return { skipped: `go build of the Go plugin failed: ${b.err.trim().split("\n").slice(-3).join(" ")}` };
  }
  renameSync(tmp, stable);
  place(stable);
  return { path: local, built: true };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const g = goPlugin();
  if ("skipped" in g) {
    console.error(`go plugin: skipped: ${g.skipped}`);
    process.exit(1);
  }
  console.log(g.path);
}
