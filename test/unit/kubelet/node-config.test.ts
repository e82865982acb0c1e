// Every shipped node-config file parses; every CredentialProviderConfig validates as the kubelet would; matchImages cover ECR hosts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { loadCredentialProviderConfig } from "../../../src/kubelet/config.ts";
import { imageMatches, normalizeImageName } from "../../../src/kubelet/match.ts";

const ROOT = new URL("../../../node-config/", import.meta.url).pathname;
const fs = { stat: (p: string) => stat(p), readdir: (p: string) => readdir(p), readFile: (p: string) => readFile(p, "utf8") };
const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
const files = walk(ROOT);
const docsOf = (path: string): unknown[] => {
  const text = readFileSync(path, "utf8");
  if (path.endsWith(".json")) return [JSON.parse(text)];
  return parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, [], `${path}: ${d.errors.join("; ")}`);
    return d.toJS();
  });
};
const yamlOrJson = files.filter((f) => /\.(ya?ml|json)$/.test(f));
const providerConfigs = yamlOrJson.filter((f) => docsOf(f).some((d) => (d as { kind?: string })?.kind === "CredentialProviderConfig"));

const EKS = [
  "*.dkr.ecr.*.amazonaws.com",
  "*.dkr-ecr.*.on.aws",
  "*.dkr.ecr.*.amazonaws.com.cn",
  "*.dkr-ecr.*.on.amazonwebservices.com.cn",
  "*.dkr.ecr-fips.*.amazonaws.com",
  "*.dkr-ecr-fips.*.on.aws",
  "*.dkr.ecr.*.c2s.ic.gov",
  "*.dkr.ecr.*.sc2s.sgov.gov",
  "*.dkr.ecr.*.cloud.adc-e.uk",
  "*.dkr.ecr.*.csp.hci.ic.gov",
  "*.dkr.ecr.*.amazonaws.eu",
  "public.ecr.aws",
  "ecr-public.aws.com",
];
const BOTTLEROCKET = [
  "*.dkr.ecr.*.amazonaws.com",
  "*.dkr.ecr.*.amazonaws.com.cn",
  "*.dkr.ecr.*.amazonaws.eu",
  "*.dkr-ecr.*.on.aws",
  "*.dkr-ecr.*.on.amazonwebservices.com.cn",
  "*.dkr.ecr-fips.*.amazonaws.com",
  "*.dkr.ecr-fips.*.amazonaws.eu",
  "*.dkr.ecr.*.cloud.adc-e.uk",
  "*.dkr.ecr-fips.*.cloud.adc-e.uk",
  "*.dkr.ecr.*.c2s.ic.gov",
  "*.dkr.ecr-fips.*.c2s.ic.gov",
  "*.dkr.ecr.*.sc2s.sgov.gov",
  "*.dkr.ecr-fips.*.sc2s.sgov.gov",
  "*.dkr.ecr.*.csp.hci.ic.gov",
  "*.dkr.ecr-fips.*.csp.hci.ic.gov",
  "public.ecr.aws",
  "ecr-public.aws.com",
];

const main = docsOf(join(ROOT, "credential-provider-config.yaml"))[0] as { providers: Array<{ matchImages: string[] }> };
const patterns = main.providers[0]!.matchImages;

describe("node-config files", () => {
  for (const f of yamlOrJson) {
    it(`parses ${relative(ROOT, f)} without errors`, () => assert.ok(docsOf(f).length > 0));
  }
  it("ships at least the eight CredentialProviderConfig files (main YAML/JSON, four variants, two Talos forms wrap one)", () =>
    assert.ok(providerConfigs.length >= 6, String(providerConfigs.length)));
  for (const f of providerConfigs) {
    it(`validates ${relative(ROOT, f)} exactly as the kubelet would, with the provider named ecr-credential-provider`, async () => {
      const got = await loadCredentialProviderConfig(f, fs);
      assert.deepEqual(got.issues, []);
      assert.ok(got.config!.providers.every((p) => p.name === "ecr-credential-provider" && p.apiVersion === "credentialprovider.kubelet.k8s.io/v1"));
      assert.match(readFileSync(f, "utf8"), /apiVersion: kubelet\.config\.k8s\.io\/v1\n|"apiVersion": "kubelet\.config\.k8s\.io\/v1"/);
      if (!f.endsWith(".json")) assert.match(readFileSync(f, "utf8"), /defaultCacheDuration: "12h"/);
    });
  }
  for (const f of ["wiring/talos/machine-config-patch.yaml", "wiring/talos/kube-credential-provider-config.yaml"]) {
    it(`embeds a valid CredentialProviderConfig in ${f}`, async () => {
      const doc = docsOf(join(ROOT, f))[0] as Record<string, any>;
      const inner = doc["machine"]?.kubelet?.credentialProviderConfig ?? doc["configuration"];
      const { decodeCredentialProviderConfig, validateCredentialProviderConfig } = await import("../../../src/kubelet/config.ts");
      const decoded = decodeCredentialProviderConfig(JSON.stringify(inner), f);
      assert.ok("providers" in decoded, "issue" in decoded ? decoded.issue.message : "");
      assert.deepEqual(validateCredentialProviderConfig(decoded), []);
      assert.deepEqual(decoded.providers[0]!.matchImages, patterns);
    });
  }
  it("has the same content in the YAML and the JSON config", () => {
    assert.deepEqual(docsOf(join(ROOT, "credential-provider-config.json"))[0], main);
  });
  it("uses the 18-pattern union of the EKS and Bottlerocket lists, plus the 4 hosts the plugin serves that no stock pattern reaches", () => {
    assert.equal(new Set([...EKS, ...BOTTLEROCKET]).size, 18);
    assert.deepEqual(patterns.slice(0, 18).sort(), [...new Set([...EKS, ...BOTTLEROCKET])].sort());
    assert.deepEqual(patterns.slice(18), EXTRA);
  });
  it("prints the same default config from install.sh --print-config", () => {
    const out = execFileSync("sh", [join(ROOT, "install.sh"), "--print-config"]).toString();
    assert.equal(out, readFileSync(join(ROOT, "credential-provider-config.yaml"), "utf8"));
  });
  it("grants system:nodes the token-audience verb on the audience used by the service-account variant", () => {
    const [role, binding] = docsOf(join(ROOT, "variants/service-account/rbac.yaml")) as any[];
    const cfg = docsOf(join(ROOT, "variants/service-account/credential-provider-config.yaml"))[0] as any;
    assert.deepEqual(role.rules[0].verbs, ["request-serviceaccounts-token-audience"]);
    assert.deepEqual(role.rules[0].resources, [cfg.providers[0].tokenAttributes.serviceAccountTokenAudience]);
    assert.deepEqual(binding.subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:nodes" }]);
    assert.equal(binding.roleRef.name, role.metadata.name);
  });
  it("writes kubeletExtraArgs as a map in v1beta3 and as a name/value list in v1beta4", () => {
    const v3 = docsOf(join(ROOT, "wiring/kubeadm/join-configuration-v1beta3.yaml"))[0] as any;
    const v4 = docsOf(join(ROOT, "wiring/kubeadm/join-configuration-v1beta4.yaml"))[0] as any;
    assert.equal(typeof v3.nodeRegistration.kubeletExtraArgs["image-credential-provider-config"], "string");
    assert.deepEqual(
      v4.nodeRegistration.kubeletExtraArgs.map((a: any) => a.name),
      ["image-credential-provider-config", "image-credential-provider-bin-dir"],
    );
  });
  it("maps every mirror in the registry-alias variant's matchImages to an ECR registry", () => {
    const p = (docsOf(join(ROOT, "variants/registry-aliases/credential-provider-config.yaml"))[0] as any).providers[0];
    const aliased = p.args.map((a: string) => a.replace("--registry-alias=", "").split("=")[0]);
    assert.deepEqual(
      p.matchImages.filter((m: string) => !patterns.includes(m)),
      aliased,
    );
  });
  it("ships AL2023 user data whose MIME parts are a NodeConfig with both flags and a shell script", () => {
    const text = readFileSync(join(ROOT, "examples/cloud-init/al2023-user-data.mime"), "utf8");
    const boundary = /boundary="([^"]+)"/.exec(text)![1]!;
    const parts = text
      .split(`--${boundary}`)
      .slice(1, -1)
      .map((part) => part.replace(/^\n/, ""));
    const [nodeConfigPart, scriptPart] = parts.map((part) => ({ type: /^Content-Type: ([^;\n]+)/.exec(part)![1], body: part.slice(part.indexOf("\n\n") + 2) }));
    assert.equal(nodeConfigPart!.type, "application/node.eks.aws");
    const nodeConfig = parseAllDocuments(nodeConfigPart!.body)[0]!.toJS();
    assert.equal(nodeConfig.kind, "NodeConfig");
    assert.equal(nodeConfig.spec.kubelet.flags.length, 2);
    assert.equal(scriptPart!.type, "text/x-shellscript");
    assert.match(scriptPart!.body, /^#!\/bin\/sh/);
  });
  for (const f of files.filter((x) => x.endsWith(".sh"))) {
    it(`passes sh -n and dash -n for ${relative(ROOT, f)}`, () => {
      execFileSync("sh", ["-n", f]);
      execFileSync("dash", ["-n", f]);
    });
  }
});

interface HostCase {
  image: string;
  expect: { kind: "private" | "public" | "none" };
}
const hosts: HostCase[] = JSON.parse(readFileSync(new URL("../../fixtures/ecr-hosts.json", import.meta.url), "utf8"));

/**
 * The string the kubelet would send for a host case: scheme dropped, a repository added to a bare
 * registry (else it would be a Docker Hub name), then ParseNormalizedNamed.Name().
 */
const asKubeletImage = (image: string) => {
  const noScheme = image.replace(/^https?:\/\//, "");
  return normalizeImageName(noScheme.includes("/") ? noScheme : `${noScheme}/repo`);
};

/**
 * Patterns beyond the stock 18, each for ECR hosts the plugin serves that no stock pattern reaches:
 * the hybrid dkr.ecr label with the China dual-stack suffix, the dual-stack label with the IPv4
 * suffix, an explicit :443 (ports must be equal), and an upper-case host (matching is case-sensitive).
 */
const EXTRA = ["*.dkr.ecr.*.on.amazonwebservices.com.cn", "*.dkr-ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com:443", "*.DKR.ECR.*.AMAZONAWS.COM"];
/** Hosts the plugin refuses that a glob cannot exclude ("*" is any run, and [0-9] classes fail in current Go). */
const KNOWN_OVERMATCHED = new Map([
  ["1234567890123.dkr.ecr.lala-land-1.amazonaws.com", "13-digit registry ID"],
  ["12345678901.dkr.ecr.lala-land-1.amazonaws.com", "11-digit registry ID"],
  ["12345678901A.dkr.ecr.lala-land-1.amazonaws.com", "letter in the registry ID"],
]);

describe("shipped matchImages against test/fixtures/ecr-hosts.json under the kubelet's rules", () => {
  for (const c of hosts) {
    const sent = asKubeletImage(c.image);
    const want = c.expect.kind !== "none";
    if (sent === undefined) {
      it(`never asks for ${JSON.stringify(c.image)} because the kubelet rejects that reference`, () => assert.equal(want, false));
      continue;
    }
    const matched = patterns.some((p) => imageMatches(p, sent));
    if (KNOWN_OVERMATCHED.has(c.image)) {
      it(`still runs the plugin for ${c.image}, which refuses it (${KNOWN_OVERMATCHED.get(c.image)})`, () => assert.equal(matched, true));
    } else {
      it(`${want ? "covers" : "does not cover"} the ${c.expect.kind} case ${JSON.stringify(c.image)} sent as ${sent}`, () => assert.equal(matched, want));
    }
  }
});
