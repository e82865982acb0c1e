// install.sh against the kubelet units distributions actually ship (test/fixtures/units): every distro
// profile on every node it could meet, with the wiring systemd would use; a rerun changes nothing;
// --uninstall removes exactly what install added; operator edits survive; bad plugin flags change nothing.
// What the kubelet then runs is judged by the kubelet's own flag parser in test/kubelet (units_test.go).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildRoot, scenarios, snapshot, type Scenario } from "../helpers/unit-roots.ts";
import { FLAGS } from "../../src/core/config.ts";

const INSTALL = fileURLToPath(new URL("../../node-config/install.sh", import.meta.url));
const BUILT = fileURLToPath(new URL("../../dist/ecr-credential-provider", import.meta.url));
const binary = process.env["ECR_E2E_BINARY"] ?? BUILT;
const CONFIG = "/etc/ecr-credential-provider/credential-provider-config.yaml";
const BIN_DIR = "/opt/ecr-credential-provider/bin";
const OURS = `--image-credential-provider-config=${CONFIG} --image-credential-provider-bin-dir=${BIN_DIR}`;
const DROPIN = "/etc/systemd/system/kubelet.service.d/zz-ecr-credential-provider.conf";

let work: string;
before(() => {
  assert.ok(existsSync(binary), `${binary} is missing: run npm run build`);
  work = mkdtempSync(join(tmpdir(), "ecr-install-units-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

const install = (args: string[]) => spawnSync("sh", [INSTALL, ...args], { encoding: "utf8" });
function rootFor(s: Scenario): string {
  const root = mkdtempSync(join(work, `${s.name}-`));
  buildRoot(s, root);
  return root;
}
/** The value of VAR's last assignment in an environment file (quotes kept). */
function lastAssignment(file: string, v: string): string | undefined {
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => new RegExp(`^\\s*${v}\\s*=`).test(l));
  return lines.at(-1)?.replace(new RegExp(`^\\s*${v}\\s*=`), "");
}

/** The words of the last non-empty ExecStart= in one unit file, its continuation lines joined. */
function effectiveExecWords(text: string): string[] {
  const logical: string[] = [];
  let cont = "";
  for (const line of text.split("\n")) {
    if (/^\s*[#;]/.test(line)) continue;
    const joined = cont + line;
    if (/(^|[^\\])(\\\\)*\\$/.test(joined)) {
      cont = joined.slice(0, -1) + " ";
      continue;
    }
    cont = "";
    logical.push(joined.trim());
  }
  const exec = logical.filter((l) => /^ExecStart\s*=\s*\S/.test(l)).at(-1)!;
  return exec.replace(/^ExecStart\s*=\s*/, "").split(/\s+/);
}

describe("install.sh on the units distributions ship", () => {
  for (const s of scenarios()) {
    for (const [profile, want] of Object.entries(s.expect)) {
      const [distro, ...extra] = profile.split(" ");
      it(`${s.name}: --distro ${profile} → ${want}`, () => {
        const root = rootFor(s);
        const before = snapshot(root);
        const args = ["--distro", distro!, "--root", root, "--binary", binary, ...extra];
        const r = install(args);
        if (want.startsWith("refuse:")) {
          assert.equal(r.status, Number(want.slice(7)), r.stdout + r.stderr);
          assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
          assert.deepEqual(snapshot(root), before, "a refused install changes nothing");
          return;
        }
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const now = snapshot(root);
        const changed = Object.keys(now).filter((k) => !k.endsWith("/") && now[k] !== before[k] && !k.startsWith("/var/lib/ecr-credential-provider/"));
        if (want.startsWith("env:")) {
          const file = want.slice(4);
          assert.deepEqual(changed.sort(), [BIN_DIR + "/ecr-credential-provider", CONFIG, file].sort());
          const value = lastAssignment(join(root, file), "KUBELET_EXTRA_ARGS")!;
          assert.ok(value.replace(/^["']|["']$/g, "").endsWith(OURS), value);
        } else if (want === "dropin") {
          assert.deepEqual(changed.sort(), [BIN_DIR + "/ecr-credential-provider", CONFIG, DROPIN].sort());
          const text = readFileSync(join(root, DROPIN), "utf8");
          assert.match(text, /^\[Service\]\nExecStart=\nExecStart=.+$/m);
          assert.ok(text.trimEnd().endsWith(` ${OURS}`), text);
          // Every word of the effective ExecStart (continuation lines joined) is re-stated, in order.
          const from = /ExecStart from (\S+)\)/.exec(r.stdout)?.[1];
          assert.ok(from, r.stdout);
          const restated = /^ExecStart=(.+)$/m.exec(text.replace(/^ExecStart=\n/m, ""))![1]!.split(/\s+/);
          assert.deepEqual(restated, [...effectiveExecWords(readFileSync(join(root, from), "utf8")), ...OURS.split(" ")]);
        } else if (want === "files") {
          assert.ok(
            changed.every((f) => f.endsWith("/ecr-credential-provider") || f.endsWith("config.yaml")),
            changed.join(" "),
          );
        } else assert.equal(want, "nodeadm");
        for (const [path] of Object.entries(s.files)) {
          if (!changed.includes(path)) assert.equal(now[path], before[path], `${path} untouched`);
        }
        const again = install(args);
        assert.equal(again.status, 0, again.stderr);
        assert.match(again.stdout, /nothing to do/);
        assert.deepEqual(snapshot(root), now);
        const un = install(["--distro", distro!, "--root", root, "--uninstall", ...extra.filter((a) => a !== "in-place" && a !== "--mode")]);
        assert.equal(un.status, 0, un.stderr);
        assert.deepEqual(snapshot(root), before, "--uninstall restores the node as it was");
      });
    }
  }
});

const byName = (n: string) => scenarios().find((s) => s.name === n)!;

describe("install.sh keeps operator edits", () => {
  it("--uninstall removes only our flags: an edit made after install (--max-pods=200) stays", () => {
    const root = rootFor(byName("kubeadm-deb"));
    const file = join(root, "etc/default/kubelet");
    const original = readFileSync(file, "utf8");
    assert.equal(install(["--distro", "kubeadm", "--root", root, "--binary", binary]).status, 0);
    writeFileSync(file, readFileSync(file, "utf8").replace(/^KUBELET_EXTRA_ARGS=(.*)$/m, "KUBELET_EXTRA_ARGS=$1 --max-pods=200"));
    appendFileSync(file, "# added by the operator\n");
    const un = install(["--distro", "kubeadm", "--root", root, "--uninstall"]);
    assert.equal(un.status, 0, un.stderr);
    assert.equal(readFileSync(file, "utf8"), original.replace("KUBELET_EXTRA_ARGS=", "KUBELET_EXTRA_ARGS=--max-pods=200") + "# added by the operator\n");
  });
  it("a line install added goes on --uninstall unless the operator put flags in it", () => {
    const s = byName("kubeadm-deb-2023-env-file-missing");
    const root = rootFor(s);
    assert.equal(install(["--distro", "kubeadm", "--root", root, "--binary", binary]).status, 0);
    const file = join(root, "etc/default/kubelet");
    writeFileSync(file, `${readFileSync(file, "utf8").trimEnd()} --node-labels=a=b\n`);
    assert.equal(install(["--distro", "kubeadm", "--root", root, "--uninstall"]).status, 0);
    assert.equal(readFileSync(file, "utf8"), "KUBELET_EXTRA_ARGS=--node-labels=a=b\n");
  });
  it("a rerun over a hand-edited config refuses without --force (exit 73, one line), replaces it with --force", () => {
    const root = rootFor(byName("k3s-agent"));
    const args = ["--distro", "k3s", "--root", root, "--binary", binary];
    assert.equal(install(args).status, 0);
    const cfg = join(root, "var/lib/rancher/credentialprovider/config.yaml");
    const edited = readFileSync(cfg, "utf8").replace('defaultCacheDuration: "12h"', 'defaultCacheDuration: "6h"');
    writeFileSync(cfg, edited);
    const before = snapshot(root);
    const r = install([...args, "--log-level", "info"]);
    assert.equal(r.status, 73, r.stdout + r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /config\.yaml was edited after install\.sh wrote it; kept it and changed nothing \(compare with: install\.sh --print-config; pass --force/);
    assert.deepEqual(snapshot(root), before);
    const plain = install(args);
    assert.equal(plain.status, 73, "the same config as installed would still overwrite the edit");
    const forced = install([...args, "--log-level", "info", "--force"]);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(readFileSync(cfg, "utf8"), /--log-level=info/);
  });
  it("refuses to overwrite a config it did not write, and --uninstall keeps a config edited since install", () => {
    const root = rootFor(byName("k3s-agent"));
    const cfg = join(root, "var/lib/rancher/credentialprovider/config.yaml");
    const dir = join(root, "var/lib/rancher/credentialprovider");
    spawnSync("mkdir", ["-p", dir]);
    writeFileSync(cfg, "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n");
    const r = install(["--distro", "k3s", "--root", root, "--binary", binary]);
    assert.equal(r.status, 73, r.stdout + r.stderr);
    assert.match(r.stderr, /exists and was not written by install\.sh/);
    rmSync(cfg);
    assert.equal(install(["--distro", "k3s", "--root", root, "--binary", binary]).status, 0);
    appendFileSync(cfg, "# tuned by hand\n");
    const un = install(["--distro", "k3s", "--root", root, "--uninstall"]);
    assert.equal(un.status, 0, un.stderr);
    assert.match(un.stdout, /kept \/var\/lib\/rancher\/credentialprovider\/config\.yaml: changed since install/);
    assert.ok(existsSync(cfg));
  });
});

describe("install.sh validates plugin flags with the executable before anything changes", () => {
  const bad: [string, string[]][] = [
    ["an unknown log level", ["--log-level", "loud"]],
    ["an alias to a registry that is not ECR", ["--registry-alias", "mirror.internal=quay.io"]],
    ["a timeout the kubelet would kill first", ["--timeout", "90s"]],
    ["an unknown flag", ["--log-levle", "debug"]],
    ["an incomplete Roles Anywhere setup", ["--roles-anywhere-certificate", "/etc/pki/c.pem"]],
  ];
  for (const [what, flags] of bad) {
    it(`refuses ${what}: exit 65, one line, nothing changed`, () => {
      const root = rootFor(byName("kubeadm-rpm"));
      const before = snapshot(root);
      const r = install(["--distro", "kubeadm", "--root", root, "--binary", binary, ...flags]);
      assert.equal(r.status, 65, r.stdout + r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /nothing was changed/);
      assert.deepEqual(snapshot(root), before);
    });
  }
  it("accepts every flag of the plugin's own table and copies it into the provider's args", () => {
    const value: Record<string, string | undefined> = {
      "log-level": "debug",
      "log-format": "json",
      output: "json",
      timeout: "20s",
      "cache-dir": "/var/cache/ecr-x",
      "no-cache": undefined,
      "registry-alias": "mirror.internal:5000=111122223333.dkr.ecr.eu-west-1.amazonaws.com",
      "roles-anywhere-certificate": "/etc/ecr-credential-provider/roles-anywhere/certificate.pem",
      "roles-anywhere-private-key": "/etc/ecr-credential-provider/roles-anywhere/private-key.pem",
      "roles-anywhere-private-key-passphrase-file": "/etc/ecr-credential-provider/roles-anywhere/passphrase",
      "roles-anywhere-intermediates": "/etc/ecr-credential-provider/roles-anywhere/intermediates.pem",
      "roles-anywhere-trust-anchor-arn": "arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/0f8ae1ad-7b9c-4d59-9a4d-ec86bd0ec5a4",
      "roles-anywhere-profile-arn": "arn:aws:rolesanywhere:eu-west-1:111122223333:profile/6f4e2b1c-8e3a-4c4f-9a1d-2a7b1f0e9d3c",
      "roles-anywhere-role-arn": "arn:aws:iam::111122223333:role/ecr-pull",
      "roles-anywhere-session-duration": "3600",
      "roles-anywhere-role-session-name": "node-1",
    };
    assert.deepEqual(Object.keys(value).sort(), Object.keys(FLAGS).sort(), "a value for every plugin flag");
    const flags = Object.entries(value).flatMap(([k, v]) => (v === undefined ? [`--${k}`] : [`--${k}`, v]));
    const r = install(["--print-config", "--binary", binary, ...flags]);
    assert.equal(r.status, 0, r.stderr);
    for (const [k, v] of Object.entries(value)) assert.ok(r.stdout.includes(`- "--${k}${v === undefined ? "" : `=${v}`}"`), `--${k} in args`);
    assert.match(r.stdout, /- "mirror\.internal:5000"\n/);
  });
});

describe("the docs say what install.sh does", () => {
  const script = readFileSync(INSTALL, "utf8");
  const doc = readFileSync(fileURLToPath(new URL("../../docs/node-kit.md", import.meta.url)), "utf8");
  const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
  it("documents exactly install.sh's exit codes, none of them one of the plugin's 0-5", () => {
    const codes = [...script.matchAll(/^EX_\w+=(\d+)$/gm)].map((m) => Number(m[1])).sort();
    const section = doc.slice(doc.indexOf("### Exit codes of install.sh"), doc.indexOf("### Reruns"));
    const documented = [...section.matchAll(/^\| (\d+) \|/gm)]
      .map((m) => Number(m[1]))
      .filter((c) => c !== 0)
      .sort();
    assert.deepEqual(documented, codes);
    assert.ok(codes.every((c) => c > 5));
    const help = /^# exit: (.+(?:\n# {2}.+)*)/m.exec(script)![1]!;
    assert.deepEqual(
      [...help.matchAll(/\b(\d+) /g)]
        .map((m) => Number(m[1]))
        .filter((c) => c !== 0)
        .sort(),
      codes,
    );
  });
  it("names the drop-in install.sh writes, and no other", () => {
    const name = /^OUR_DROPIN_NAME=(\S+)$/m.exec(script)![1]!;
    assert.equal(DROPIN.split("/").pop(), name);
    for (const text of [doc, readme]) assert.ok(text.includes(`kubelet.service.d/${name}`));
    // Every kubelet drop-in the docs or the kit name is install.sh's: a hand-written one of another
    // name would stack with install.sh's, and whichever sorts last would silently win.
    const kit = fileURLToPath(new URL("../../node-config/", import.meta.url));
    const kitFiles = (readdirSync(kit, { recursive: true }) as string[]).filter((f) => statSync(join(kit, f)).isFile() && f !== "install.sh");
    const texts: [string, string][] = [
      ["docs/node-kit.md", doc],
      ["README.md", readme],
      ...kitFiles.map((f): [string, string] => [`node-config/${f}`, readFileSync(join(kit, f), "utf8")]),
    ];
    for (const [file, text] of texts) {
      for (const m of text.matchAll(/kubelet\.service\.d\/([\w.-]+\.conf)/g)) assert.equal(m[1], name, `${file} names the drop-in ${m[1]}`);
    }
    const dropIns = kitFiles.filter((f) => /^\[Service\]$/m.test(readFileSync(join(kit, f), "utf8")));
    assert.deepEqual(dropIns.sort(), ["wiring/kops/" + name, "wiring/systemd/" + name]);
  });

  // The hand-written drop-ins are what install.sh writes on the units they are for.
  for (const [example, distro, scenario] of [
    ["wiring/kops", "kops", "kops-debian"],
    ["wiring/systemd", "generic", "kubernetes-the-hard-way"],
  ] as const) {
    it(`${example}'s drop-in is what install.sh --distro ${distro} writes on the ${scenario} unit`, () => {
      const root = rootFor(byName(scenario));
      const r = install(["--distro", distro, "--root", root, "--binary", binary]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const execs = (text: string) => [...text.matchAll(/^ExecStart=(.*)$/gm)].map((m) => m[1]!.trim().split(/\s+/).join(" "));
      const name = DROPIN.split("/").pop()!;
      const byHand = readFileSync(fileURLToPath(new URL(`../../node-config/${example}/${name}`, import.meta.url)), "utf8");
      assert.deepEqual(execs(byHand), execs(readFileSync(join(root, DROPIN), "utf8")));
      // Both on one node: the same file, so install.sh refuses to replace the hand-written one.
      const handRoot = rootFor(byName(scenario));
      mkdirSync(join(handRoot, DROPIN, ".."), { recursive: true });
      writeFileSync(join(handRoot, DROPIN), byHand);
      const before = snapshot(handRoot);
      const refused = install(["--distro", distro, "--root", handRoot, "--binary", binary]);
      assert.equal(refused.status, 73, refused.stdout + refused.stderr);
      // --print-config prints the credential provider config, not a drop-in: the hint does not send the operator there.
      assert.match(refused.stderr, /exists and was not written by install\.sh; kept it and changed nothing \(pass --force/);
      assert.deepEqual(snapshot(handRoot), before);
    });
  }
});
