// doctor is quiet on what we ship: every CredentialProviderConfig in node-config/ (the main YAML/JSON,
// every variant, the config directory, the ones embedded in the Talos files) and every config
// install.sh generates passes `doctor --offline` with no `warn` and no `fail` line.
// Each runs in a scratch root laid out as the docs say (kit bin dir, Roles Anywhere key 0600 root);
// the root borrows this host's system libraries so the runtime check sees a real node.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseAllDocuments, stringify } from "yaml";
import { BINARY, binaryAvailable } from "../helpers/run-binary.ts";
import { linkHostRuntime, linkHostTrustStore } from "../helpers/scratch-root.ts";

const REPO = join(import.meta.dirname, "..", "..");
const KIT = join(REPO, "node-config");
const BIN_DIR = "/opt/ecr-credential-provider/bin";
const KEY_DIR = "/etc/ecr-credential-provider/roles-anywhere";
const isRoot = process.getuid?.() === 0;

const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
const docs = (f: string): any[] =>
  f.endsWith(".json") ? [JSON.parse(readFileSync(f, "utf8"))] : parseAllDocuments(readFileSync(f, "utf8")).map((d) => d.toJS());

/** Every shipped config as [label, path relative to the scratch root's /shipped, or the embedded document]. */
function shippedConfigs(): Array<{ label: string; file?: string; embedded?: unknown }> {
  const out: Array<{ label: string; file?: string; embedded?: unknown }> = [];
  for (const f of walk(KIT).filter((f) => /\.(ya?ml|json)$/.test(f))) {
    const rel = relative(KIT, f);
    if (rel.includes("credential-provider-config.d/")) continue; // checked as a directory below
    // Windows configs name C:\ paths: a Linux doctor cannot judge them; test/windows runs the Windows doctor under wine.
    if (rel.startsWith("wiring/windows/")) continue;
    for (const d of docs(f)) {
      if (d?.kind === "CredentialProviderConfig") out.push({ label: rel, file: f });
      else if (d?.machine?.kubelet?.credentialProviderConfig)
        out.push({ label: `${rel} (machine.kubelet.credentialProviderConfig)`, embedded: d.machine.kubelet.credentialProviderConfig });
      else if (d?.kind === "KubeCredentialProviderConfig" || d?.configuration?.kind === "CredentialProviderConfig")
        out.push({ label: `${rel} (configuration)`, embedded: d.configuration });
    }
  }
  for (const d of walk(KIT)
    .filter((f) => f.endsWith("credential-provider-config.d/" + f.split("/").pop()))
    .map((f) => join(f, ".."))) {
    if (!out.some((o) => o.file === d)) out.push({ label: `${relative(KIT, d)}/ (directory)`, file: d });
  }
  return out;
}

/** The configs install.sh writes: default, --service-account, and with every kind of plugin flag. */
const GENERATED: Array<[string, string[]]> = [
  ["install.sh --print-config", []],
  ["install.sh --print-config --service-account", ["--service-account"]],
  [
    "install.sh --print-config --registry-alias … --log-level debug --no-cache",
    ["--registry-alias", "mirror.example.internal=111122223333.dkr.ecr.us-east-1.amazonaws.com", "--log-level", "debug", "--no-cache"],
  ],
];

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), "ecp-shipped-"));
  linkHostRuntime(root); // the runtime check reads the C runtime under --root
  linkHostTrustStore(root); // and the trust-store check the certificate store
  mkdirSync(join(root, BIN_DIR), { recursive: true });
  symlinkSync(BINARY, join(root, BIN_DIR, "ecr-credential-provider"));
  // The Roles Anywhere key layout from node-config/README.md.
  mkdirSync(join(root, KEY_DIR), { recursive: true, mode: 0o700 });
  for (const [f, mode] of [
    ["certificate.pem", 0o644],
    ["intermediates.pem", 0o644],
    ["private-key.pem", 0o600],
  ] as const) {
    writeFileSync(join(root, KEY_DIR, f), "-----BEGIN PLACEHOLDER-----\n");
    chmodSync(join(root, KEY_DIR, f), mode);
  }
  mkdirSync(join(root, "shipped"));
});
after(() => rmSync(root, { recursive: true, force: true }));

function doctor(config: string): { code: number | null; out: string } {
  const r = spawnSync(BINARY, ["doctor", "--offline", "--root", root, "--config", config, "--bin-dir", BIN_DIR, "--kubelet-flags", "none"], {
    encoding: "utf8",
    env: { PATH: "/usr/bin:/bin" },
  });
  return { code: r.status, out: (r.stdout ?? "") + (r.stderr ?? "") };
}
const noisy = (out: string) => out.split("\n").filter((l) => /^(warn|fail)\b/.test(l));

describe("doctor --offline is quiet on every shipped config", { skip: !binaryAvailable() && `${BINARY} is missing: run npm run build` }, () => {
  const shipped = shippedConfigs();
  it("finds the shipped configs (main YAML/JSON, 4 variants, config dir, 2 Talos forms)", () => {
    assert.ok(shipped.length >= 8, shipped.map((s) => s.label).join("\n"));
  });
  for (const s of shipped) {
    const needsRootKey = s.file
      ? readFileSync(statSync(s.file).isDirectory() ? walk(s.file)[0]! : s.file, "utf8").includes("--roles-anywhere-private-key")
      : false;
    it(s.label, { skip: needsRootKey && !isRoot && "the Roles Anywhere key must be owned by root: run as root" }, () => {
      let inRoot: string;
      if (s.file) {
        inRoot = `/shipped/${relative(KIT, s.file).replaceAll("/", "_")}`;
        spawnSync("cp", ["-r", s.file, join(root, inRoot)]);
      } else {
        inRoot = `/shipped/${s.label.replace(/\W+/g, "_")}.yaml`;
        writeFileSync(join(root, inRoot), stringify(s.embedded));
      }
      const r = doctor(inRoot);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(noisy(r.out), [], r.out);
    });
  }
  for (const [label, args] of GENERATED) {
    it(label, () => {
      const g = spawnSync("sh", [join(KIT, "install.sh"), "--print-config", "--binary", BINARY, ...args], { encoding: "utf8" });
      assert.equal(g.status, 0, g.stderr);
      const inRoot = `/shipped/${label.replace(/\W+/g, "_")}.yaml`;
      writeFileSync(join(root, inRoot), g.stdout);
      const r = doctor(inRoot);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(noisy(r.out), [], r.out);
    });
  }
});
