// Checks that CredentialProviderConfig files are accepted and refused exactly where the kubelet accepts and refuses them.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ConfigIssueKind, loadCredentialProviderConfig } from "../../../src/kubelet/config.ts";
import { GoDurationError, parseGoDuration } from "../../../src/core/go-duration.ts";
import { memFs } from "../../fixtures/kubelet/mem-fs.ts";

const PROVIDER = `  - name: ecr-credential-provider
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
    defaultCacheDuration: "12h"
    apiVersion: credentialprovider.kubelet.k8s.io/v1
`;
const yamlConfig = (providerBody: string, fileVersion = "v1") =>
  `apiVersion: kubelet.config.k8s.io/${fileVersion}\nkind: CredentialProviderConfig\nproviders:\n${providerBody}`;
const withLine = (line: string) => yamlConfig(PROVIDER + line);
const replaced = (from: string, to: string) => yamlConfig(PROVIDER.replace(from, to));
const TOKEN = `    tokenAttributes:
      serviceAccountTokenAudience: sts.amazonaws.com
      cacheType: ServiceAccount
      requireServiceAccount: false
      optionalServiceAccountAnnotationKeys: ["eks.amazonaws.com/ecr-role-arn"]
`;

interface FileCase {
  name: string;
  text: string;
  /** Expected issue kinds (empty: accepted); `field` narrows the first one. */
  want: ConfigIssueKind[];
  field?: string;
  options?: { serviceAccountTokenForCredentialProviders?: boolean };
}

const fileCases: FileCase[] = [
  { name: "accepts the minimal v1 YAML config", text: yamlConfig(PROVIDER), want: [] },
  {
    name: "accepts the same config written as JSON",
    text: JSON.stringify({
      apiVersion: "kubelet.config.k8s.io/v1",
      kind: "CredentialProviderConfig",
      providers: [{ name: "p", matchImages: ["a.io"], defaultCacheDuration: "0", apiVersion: "credentialprovider.kubelet.k8s.io/v1" }],
    }),
    want: [],
  },
  {
    name: "accepts args, env and a v1beta1 provider apiVersion",
    text:
      replaced("credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1beta1") +
      "    args: [get-credentials]\n    env:\n      - name: AWS_REGION\n        value: us-east-1\n",
    want: [],
  },
  { name: "accepts tokenAttributes under a v1 provider in a v1 file", text: yamlConfig(PROVIDER + TOKEN), want: [] },
  {
    name: "accepts YAML 1.1 yes as the boolean requireServiceAccount",
    text: yamlConfig(PROVIDER + TOKEN.replace("requireServiceAccount: false", "requireServiceAccount: yes")),
    want: [],
  },
  {
    name: "refuses an unquoted numeric defaultCacheDuration because it decodes as a number",
    text: replaced('defaultCacheDuration: "12h"', "defaultCacheDuration: 0"),
    want: ["decode"],
  },
  { name: "refuses a defaultCacheDuration of 1d because Go durations have no day unit", text: replaced('"12h"', '"1d"'), want: ["decode"] },
  {
    name: "refuses a config without defaultCacheDuration",
    text: replaced('    defaultCacheDuration: "12h"\n', ""),
    want: ["required"],
    field: "providers.defaultCacheDuration",
  },
  { name: "refuses a negative defaultCacheDuration", text: replaced('"12h"', '"-1m"'), want: ["invalid"], field: "providers.defaultCacheDuration" },
  { name: "refuses an unknown provider field", text: withLine("    cacheDuration: 1h\n"), want: ["strict"] },
  { name: "refuses a field whose case differs from the schema", text: withLine("    MatchImages: [a.io]\n"), want: ["strict"] },
  { name: "refuses a duplicated YAML key", text: withLine("    name: again\n"), want: ["strict"] },
  {
    name: "refuses a duplicated JSON key",
    text: '{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[{"name":"a","name":"b","matchImages":["a.io"],"defaultCacheDuration":"1h","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}]}',
    want: ["strict"],
  },
  {
    name: "refuses JSON with a trailing comma even though YAML flow syntax would allow it",
    text: '{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[],}',
    want: ["decode"],
  },
  { name: "refuses a file apiVersion the kubelet does not register", text: yamlConfig(PROVIDER, "v2"), want: ["decode"] },
  {
    name: "refuses a KubeletConfiguration passed as the credential provider config",
    text: yamlConfig(PROVIDER).replace("CredentialProviderConfig", "KubeletConfiguration"),
    want: ["decode"],
  },
  { name: "refuses tokenAttributes in a v1beta1 file as an unknown field", text: yamlConfig(PROVIDER + TOKEN, "v1beta1"), want: ["strict"] },
  {
    name: "refuses tokenAttributes under a v1beta1 provider apiVersion",
    text: yamlConfig(PROVIDER.replace("credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1beta1") + TOKEN),
    want: ["forbidden"],
    field: "providers.tokenAttributes",
  },
  {
    name: "refuses tokenAttributes without cacheType",
    text: yamlConfig(PROVIDER + TOKEN.replace("      cacheType: ServiceAccount\n", "")),
    want: ["required"],
    field: "providers.tokenAttributes.cacheType",
  },
  { name: "refuses an unknown cacheType", text: yamlConfig(PROVIDER + TOKEN.replace("cacheType: ServiceAccount", "cacheType: Pod")), want: ["not-supported"] },
  {
    name: "refuses tokenAttributes without requireServiceAccount",
    text: yamlConfig(PROVIDER + TOKEN.replace("      requireServiceAccount: false\n", "")),
    want: ["required"],
  },
  {
    name: "refuses required annotation keys when requireServiceAccount is false",
    text: yamlConfig(PROVIDER + TOKEN + "      requiredServiceAccountAnnotationKeys: [a.io/x]\n"),
    want: ["forbidden"],
  },
  {
    name: "refuses an annotation key that is both required and optional",
    text: yamlConfig(PROVIDER + TOKEN.replace("false", "true") + '      requiredServiceAccountAnnotationKeys: ["eks.amazonaws.com/ecr-role-arn"]\n'),
    want: ["invalid"],
    field: "providers.tokenAttributes",
  },
  {
    name: "refuses an annotation key that is not a qualified name",
    text: yamlConfig(PROVIDER + TOKEN.replace('["eks.amazonaws.com/ecr-role-arn"]', '["a/b/c"]')),
    want: ["invalid"],
  },
  {
    name: "refuses tokenAttributes when the service-account feature gate is off",
    text: yamlConfig(PROVIDER + TOKEN),
    want: ["forbidden"],
    options: { serviceAccountTokenForCredentialProviders: false },
  },
  {
    name: "refuses a matchImages entry Go's URL parser rejects",
    text: replaced('"*.dkr.ecr.*.amazonaws.com"', '"%invalid%"'),
    want: ["invalid"],
    field: "providers.matchImages",
  },
  {
    name: "refuses an empty matchImages list",
    text: replaced('      - "*.dkr.ecr.*.amazonaws.com"\n', "").replace("matchImages:", "matchImages: []"),
    want: ["required"],
  },
  {
    name: "refuses a provider name containing a slash",
    text: replaced("name: ecr-credential-provider", "name: bin/ecr"),
    want: ["invalid"],
    field: "providers.name",
  },
  { name: "refuses a provider name containing a space", text: replaced("name: ecr-credential-provider", "name: ecr provider"), want: ["invalid"] },
  { name: "refuses the provider name ..", text: replaced("name: ecr-credential-provider", 'name: ".."'), want: ["invalid"] },
  {
    name: "refuses a provider without apiVersion",
    text: replaced("    apiVersion: credentialprovider.kubelet.k8s.io/v1\n", ""),
    want: ["required"],
    field: "providers.apiVersion",
  },
  {
    name: "refuses an unsupported provider apiVersion",
    text: replaced("credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v2"),
    want: ["not-supported"],
  },
  {
    name: "refuses a config with no providers",
    text: "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n",
    want: ["required"],
    field: "providers",
  },
  { name: "refuses two providers with the same name in one file", text: yamlConfig(PROVIDER + PROVIDER), want: ["merge"] },
  { name: "refuses a file without kind", text: "apiVersion: kubelet.config.k8s.io/v1\nproviders: []\n", want: ["decode"] },
  { name: "refuses a list where matchImages expects strings", text: replaced('"*.dkr.ecr.*.amazonaws.com"', "[a, b]"), want: ["decode"] },
];

describe("loadCredentialProviderConfig on a single file", () => {
  for (const c of fileCases) {
    it(c.name, async () => {
      const fs = memFs({ "/etc/cfg.yaml": c.text });
      const got = await loadCredentialProviderConfig("/etc/cfg.yaml", fs, c.options);
      assert.deepEqual(
        got.issues.map((i) => i.kind),
        c.want,
        got.issues.map((i) => i.message).join("\n"),
      );
      if (c.field) assert.equal(got.issues[0]?.field, c.field);
    });
  }
});

describe("loadCredentialProviderConfig on a directory (kubelet 1.34+)", () => {
  const one = (name: string) => yamlConfig(PROVIDER.replace("ecr-credential-provider", name));
  it("merges *.json, *.yaml and *.yml files in lexical path order and ignores other files", async () => {
    const fs = memFs({
      "/etc/d/20-b.yml": one("b"),
      "/etc/d/10-a.yaml": one("a"),
      "/etc/d/30-c.json": JSON.stringify({
        apiVersion: "kubelet.config.k8s.io/v1",
        kind: "CredentialProviderConfig",
        providers: [{ name: "c", matchImages: ["c.io"], defaultCacheDuration: "1h", apiVersion: "credentialprovider.kubelet.k8s.io/v1" }],
      }),
      "/etc/d/README.md": "not a config",
      "/etc/d/sub.yaml": { dir: true },
    });
    const got = await loadCredentialProviderConfig("/etc/d", fs);
    assert.deepEqual(got.issues, []);
    assert.deepEqual(
      got.config?.providers.map((p) => p.name),
      ["a", "b", "c"],
    );
  });
  it("refuses a provider name that appears in two files", async () => {
    const fs = memFs({ "/etc/d/a.yaml": one("x"), "/etc/d/b.yaml": one("x") });
    const got = await loadCredentialProviderConfig("/etc/d", fs);
    assert.deepEqual(
      got.issues.map((i) => i.kind),
      ["merge"],
    );
  });
  it("refuses a directory without any config file", async () => {
    const fs = memFs({ "/etc/d/notes.txt": "x" });
    const got = await loadCredentialProviderConfig("/etc/d", fs);
    assert.deepEqual(
      got.issues.map((i) => i.kind),
      ["read"],
    );
  });
  it("refuses a directory when the kubelet predates directory mode", async () => {
    const fs = memFs({ "/etc/d/a.yaml": one("a") });
    const got = await loadCredentialProviderConfig("/etc/d", fs, { allowDirectory: false });
    assert.deepEqual(
      got.issues.map((i) => i.kind),
      ["read"],
    );
  });
  it("reports a missing path as a read issue", async () => {
    const got = await loadCredentialProviderConfig("/nope", memFs({}));
    assert.deepEqual(
      got.issues.map((i) => i.kind),
      ["read"],
    );
  });
});

describe("parseGoDuration follows Go's time.ParseDuration", () => {
  const ok: Array<[string, bigint]> = [
    ["0", 0n],
    ["0s", 0n],
    ["12h", 43_200_000_000_000n],
    ["12h0m0s", 43_200_000_000_000n],
    ["1h30m", 5_400_000_000_000n],
    ["1.5h", 5_400_000_000_000n],
    [".5s", 500_000_000n],
    ["1.s", 1_000_000_000n],
    ["300ms", 300_000_000n],
    ["2us", 2000n],
    ["2\u00b5s", 2000n],
    ["-1m", -60_000_000_000n],
    ["+5ns", 5n],
  ];
  for (const [s, ns] of ok) it(`parses ${JSON.stringify(s)} as ${ns} nanoseconds`, () => assert.equal(parseGoDuration(s), ns));
  for (const s of ["", "1d", "3600", "PT1H", "h", ".s", "1..5s", "-", "1h 30m", "9999999999h"]) {
    it(`rejects ${JSON.stringify(s)}`, () => assert.throws(() => parseGoDuration(s), GoDurationError));
  }
});
