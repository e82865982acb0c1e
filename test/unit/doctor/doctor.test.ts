// Doctor: each offline-checkable misconfiguration from distros.md is reported under the right check as `fail`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DOCTOR_EXIT, runDoctor, type DoctorDeps, type Finding, type ProbeResult } from "../../../src/doctor/index.ts";
import { memFs, type MemEntry } from "../../fixtures/kubelet/mem-fs.ts";

const BIN = "/opt/ecr-credential-provider/bin";
const EXE = `${BIN}/ecr-credential-provider`;
const CFG = "/etc/ecr-credential-provider/credential-provider-config.yaml";
const PROVIDER = `  - name: ecr-credential-provider
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
      - "public.ecr.aws"
    defaultCacheDuration: "12h"
    apiVersion: credentialprovider.kubelet.k8s.io/v1
`;
const config = (providers = PROVIDER) => `apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n${providers}`;
const FLAGS = [
  "/usr/bin/kubelet",
  "--config=/var/lib/kubelet/config.yaml",
  `--image-credential-provider-config=${CFG}`,
  `--image-credential-provider-bin-dir=${BIN}`,
];

/** A healthy node: kubelet flags, config, executable (a /bin/sh script), glibc and libstdc++. */
function healthyFiles(): Record<string, MemEntry | string> {
  return {
    [CFG]: config(),
    [EXE]: { content: "#!/bin/sh\nexit 0\n", mode: 0o755 },
    "/bin/sh": { content: "", mode: 0o755 },
    "/usr/lib64/libstdc++.so.6": "",
  };
}

interface Setup {
  files?: Record<string, MemEntry | string>;
  kubelet?: string[] | undefined;
  version?: string;
  probe?: ProbeResult;
}

function makeDeps(setup: Setup = {}) {
  const lines: string[] = [];
  const probed: string[] = [];
  const deps: DoctorDeps = {
    env: {},
    fs: memFs(setup.files ?? healthyFiles()),
    now: () => new Date("2026-01-01T00:00:00Z"),
    write: (l) => lines.push(l),
    executablePath: EXE,
    kubeletCommandLine: async () => ("kubelet" in setup ? setup.kubelet : FLAGS),
    runCommand: async (file) =>
      file === "getconf" ? { code: 0, stdout: "glibc 2.36\n", stderr: "" } : { code: 0, stdout: `Kubernetes ${setup.version ?? "v1.31.0"}\n`, stderr: "" },
    probe: async (image) => {
      probed.push(image);
      return setup.probe ?? { ok: true, source: "imds", region: "us-east-1", serverDate: new Date("2026-01-01T00:00:05Z") };
    },
  };
  return { deps, lines, probed };
}

async function doctor(argv: string[], setup: Setup = {}) {
  const { deps, lines, probed } = makeDeps(setup);
  const code = await runDoctor([...argv, "--json"], deps);
  const parsed = JSON.parse(lines.join("\n")) as { ok: boolean; checks: Finding[] };
  return { code, checks: parsed.checks, probed };
}

const withFiles = (patch: Record<string, MemEntry | string>) => ({ ...healthyFiles(), ...patch });

interface FailCase {
  name: string;
  check: string;
  argv?: string[];
  setup: Setup;
}

const failCases: FailCase[] = [
  {
    name: "fails config when defaultCacheDuration is an unquoted number",
    check: "config",
    setup: { files: withFiles({ [CFG]: config(PROVIDER.replace('"12h"', "0")) }) },
  },
  {
    name: "fails match-images when an entry carries an https:// scheme",
    check: "match-images",
    setup: { files: withFiles({ [CFG]: config(PROVIDER.replace('"public.ecr.aws"', '"https://public.ecr.aws"')) }) },
  },
  {
    name: "fails provider-binary when the provider name differs from the installed file name",
    check: "provider-binary",
    setup: { files: withFiles({ [CFG]: config(PROVIDER.replace("name: ecr-credential-provider", "name: ecr-cred")) }) },
  },
  {
    name: "fails provider-name when no provider is named like the running executable",
    check: "provider-name",
    setup: { files: withFiles({ [CFG]: config(PROVIDER.replace("name: ecr-credential-provider", "name: ecr-cred")) }) },
  },
  {
    name: "fails provider-binary when the executable lacks the exec bit",
    check: "provider-binary",
    setup: { files: withFiles({ [EXE]: { content: "#!/bin/sh\n", mode: 0o644 } }) },
  },
  {
    name: "fails config when tokenAttributes sit under a v1beta1 provider",
    check: "config",
    setup: {
      files: withFiles({
        [CFG]: config(
          PROVIDER.replace("kubelet.k8s.io/v1\n", "kubelet.k8s.io/v1beta1\n") +
            "    tokenAttributes:\n      serviceAccountTokenAudience: sts.amazonaws.com\n      cacheType: ServiceAccount\n      requireServiceAccount: false\n",
        ),
      }),
    },
  },
  {
    name: "fails feature-gates when the removed KubeletCredentialProviders gate is passed to a 1.31 kubelet",
    check: "feature-gates",
    setup: { kubelet: [...FLAGS, "--feature-gates=KubeletCredentialProviders=true"] },
  },
  {
    name: "fails kubelet-flags when a drop-in's Environment= is shadowed by the kubeadm EnvironmentFile=",
    check: "kubelet-flags",
    argv: ["--kubelet-flags", "/tmp/kubelet.unit"],
    setup: {
      files: withFiles({
        "/tmp/kubelet.unit": `# /usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf\n[Service]\nEnvironmentFile=-/etc/default/kubelet\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_EXTRA_ARGS\n# /etc/systemd/system/kubelet.service.d/20-ecr.conf\n[Service]\nEnvironment="KUBELET_EXTRA_ARGS=--image-credential-provider-config=${CFG} --image-credential-provider-bin-dir=${BIN}"\n`,
        "/etc/default/kubelet": "KUBELET_EXTRA_ARGS=\n",
      }),
    },
  },
  {
    name: "fails config when defaultCacheDuration is missing",
    check: "config",
    setup: { files: withFiles({ [CFG]: config(PROVIDER.replace('    defaultCacheDuration: "12h"\n', "")) }) },
  },
  {
    name: "fails config when two files of a config directory declare the same provider name",
    check: "config",
    argv: ["--config", "/etc/ecr-credential-provider/config.d", "--bin-dir", BIN],
    setup: {
      files: withFiles({ "/etc/ecr-credential-provider/config.d/10-a.yaml": config(), "/etc/ecr-credential-provider/config.d/20-b.yaml": config() }),
      version: "v1.34.1",
    },
  },
  {
    name: "fails config when a provider has an unknown field",
    check: "config",
    setup: { files: withFiles({ [CFG]: config(PROVIDER + "    cacheKeyType: Registry\n") }) },
  },
  {
    name: "fails match-images when --image is not covered by the provider's matchImages",
    check: "match-images",
    argv: ["--image", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1", "--offline"],
    setup: {},
  },
  {
    name: "fails kubelet-flags when only the config flag is set",
    check: "kubelet-flags",
    setup: { kubelet: ["/usr/bin/kubelet", `--image-credential-provider-config=${CFG}`] },
  },
  {
    name: "fails cache-dir when the token cache is readable by other users",
    check: "cache-dir",
    setup: { files: withFiles({ "/var/cache/ecr-credential-provider": { dir: true, mode: 0o755 } }) },
  },
  {
    name: "fails cache-dir when a cached token file is group-readable",
    check: "cache-dir",
    setup: {
      files: withFiles({
        "/var/cache/ecr-credential-provider": { dir: true, mode: 0o700 },
        "/var/cache/ecr-credential-provider/x.json": { content: "{}", mode: 0o640 },
      }),
    },
  },
  {
    name: "fails runtime when the executable's interpreter is missing, as in Talos' kubelet container",
    check: "runtime",
    setup: { files: withFiles({ [EXE]: { content: "#!/usr/bin/env node\n", mode: 0o755 } }) },
  },
  {
    name: "fails roles-anywhere-key when the private key is world-readable",
    check: "roles-anywhere-key",
    setup: {
      files: withFiles({
        [CFG]: config(PROVIDER + "    args: [--roles-anywhere-private-key=/etc/ra/key.pem]\n"),
        "/etc/ra/key.pem": { content: "k", mode: 0o644 },
      }),
    },
  },
  {
    name: "fails plugin-args when an arg is refused by the plugin's own parser",
    check: "plugin-args",
    setup: { files: withFiles({ [CFG]: config(PROVIDER + "    args: [--log-level=loud]\n") }) },
  },
  {
    name: "fails plugin-args when a registry alias points at a registry that is not ECR",
    check: "plugin-args",
    setup: { files: withFiles({ [CFG]: config(PROVIDER + "    args: [--registry-alias=mirror.internal=quay.io]\n") }) },
  },
  {
    name: "fails clock-skew when AWS's Date is more than five minutes away",
    check: "clock-skew",
    argv: ["--image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"],
    setup: { probe: { ok: true, source: "imds", serverDate: new Date("2026-01-01T00:06:00Z") } },
  },
  {
    name: "fails aws-credentials when the probe finds no credentials",
    check: "aws-credentials",
    argv: ["--image", "public.ecr.aws/x/y"],
    setup: { probe: { ok: false, error: { code: "credentials-not-found", message: "none" } } },
  },
  {
    name: "fails ecr when credentials resolve but ECR refuses",
    check: "ecr",
    argv: ["--image", "public.ecr.aws/x/y"],
    setup: { probe: { ok: false, source: "imds", error: { code: "AccessDenied", message: "denied" } } },
  },
];

describe("runDoctor reports each misconfiguration as a failing check", () => {
  for (const c of failCases) {
    it(c.name, async () => {
      const { code, checks } = await doctor(c.argv ?? ["--offline"], c.setup);
      const failing = checks.filter((f) => f.status === "fail").map((f) => f.check);
      assert.ok(failing.includes(c.check), `want a fail for ${c.check}; got ${JSON.stringify(checks, null, 1)}`);
      assert.equal(code, DOCTOR_EXIT.failed);
    });
  }
});

describe("runDoctor on a healthy node", () => {
  it("passes with exit 0 and never calls the probe when --offline is given", async () => {
    const { code, checks, probed } = await doctor(["--offline"]);
    assert.deepEqual(
      checks.filter((f) => f.status === "fail"),
      [],
    );
    assert.equal(code, 0);
    assert.deepEqual(probed, []);
  });
  it("probes the image as the kubelet would send it and reports ok for credentials, ECR and clock", async () => {
    const { code, checks, probed } = await doctor(["--image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1"]);
    assert.equal(code, 0);
    assert.deepEqual(probed, ["123456789012.dkr.ecr.us-east-1.amazonaws.com/app"]);
    for (const check of ["aws-credentials", "ecr", "clock-skew", "match-images"])
      assert.ok(
        checks.some((f) => f.check === check && f.status === "ok"),
        check,
      );
  });
  it("warns but does not fail when the clock is two minutes off", async () => {
    const { code, checks } = await doctor(["--image", "public.ecr.aws/x/y"], {
      probe: { ok: true, source: "env", serverDate: new Date("2026-01-01T00:02:00Z") },
    });
    assert.equal(code, 0);
    assert.equal(checks.find((f) => f.check === "clock-skew")?.status, "warn");
  });
  it("accepts explicit --config and --bin-dir without reading the running kubelet", async () => {
    const { code, checks } = await doctor(["--config", CFG, "--bin-dir", BIN, "--offline"], { kubelet: undefined });
    assert.equal(code, 0);
    assert.ok(!checks.some((f) => f.check === "kubelet-flags"));
  });
  it("reads the flags from an EKS NodeConfig drop-in", async () => {
    const nodeConfig = `apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    flags:\n      - --image-credential-provider-config=${CFG}\n      - --image-credential-provider-bin-dir=${BIN}\n`;
    const { code } = await doctor(["--kubelet-flags", "/etc/eks/nodeadm.d/50.yaml", "--offline"], {
      files: withFiles({ "/etc/eks/nodeadm.d/50.yaml": nodeConfig }),
    });
    assert.equal(code, 0);
  });
});

describe("runDoctor output and usage", () => {
  it("prints one `status  check: message  (fix: hint)` line per finding", async () => {
    const { deps, lines } = makeDeps({ files: withFiles({ [EXE]: { content: "#!/bin/sh\n", mode: 0o644 } }) });
    assert.equal(await runDoctor(["--offline"], deps), DOCTOR_EXIT.failed);
    assert.ok(
      lines.some((l) => /^fail {2}provider-binary: .*\(fix: chmod 0755 /.test(l)),
      lines.join("\n"),
    );
  });
  it("exits 3 (usage) on an unknown argument", async () => {
    const { deps } = makeDeps();
    assert.equal(await runDoctor(["--bogus"], deps), 3);
  });
});

describe("doctor's exit codes", () => {
  it("do not reuse the plugin's codes for other meanings: failed is none of EXIT, usage is EXIT.config", async () => {
    const { EXIT } = await import("../../../src/core/errors.ts");
    assert.ok(!(Object.values(EXIT) as number[]).includes(DOCTOR_EXIT.failed));
    assert.equal(DOCTOR_EXIT.usage, EXIT.config);
    assert.equal(DOCTOR_EXIT.ok, EXIT.ok);
  });
});

describe("matchImages case", () => {
  const provider = (matchImages: string[]) =>
    ({
      name: "ecr-credential-provider",
      matchImages,
      defaultCacheDuration: "12h",
      apiVersion: "credentialprovider.kubelet.k8s.io/v1",
      args: [],
      env: [],
    }) as any;
  it("an upper-case pattern alone is a warning (lower-case images would not match it)", async () => {
    const { matchFindings } = await import("../../../src/doctor/checks.ts");
    const p = provider(["*.DKR.ECR.*.AMAZONAWS.COM"]);
    const f = matchFindings(p, [p], undefined, []);
    assert.deepEqual(
      f.map((x) => `${x.status} ${x.check}`),
      ["warn match-images"],
    );
  });
  it("an upper-case pattern beside its lower-case form is deliberate, and still an ECR host", async () => {
    const { matchFindings } = await import("../../../src/doctor/checks.ts");
    const p = provider(["*.dkr.ecr.*.amazonaws.com", "*.DKR.ECR.*.AMAZONAWS.COM"]);
    const f = matchFindings(p, [p], undefined, []);
    assert.deepEqual(
      f.map((x) => `${x.status} ${x.check}`),
      ["ok match-images"],
    );
  });
});

describe("runtime: the Talos kubelet image, not the extension tree", () => {
  /** A minimal 64-bit ELF with a PT_INTERP, needing libstdc++ (what the release executable looks like to doctor). */
  const elf = (interp: string) => {
    const b = Buffer.alloc(256);
    b.writeUInt32BE(0x7f454c46, 0);
    b[4] = 2;
    b[5] = 1;
    b.writeBigUInt64LE(64n, 32);
    b.writeUInt16LE(56, 54);
    b.writeUInt16LE(1, 56);
    b.writeUInt32LE(3, 64);
    b.writeBigUInt64LE(128n, 72);
    b.writeBigUInt64LE(BigInt(interp.length + 1), 96);
    b.write(interp, 128, "latin1");
    b.write("libstdc++.so.6", 200, "latin1");
    return b.toString("latin1");
  };
  const TALOS_BIN = "/rootfs/usr/local/lib/kubelet/credentialproviders";
  // What install.sh --distro talos --root ext builds: no C runtime anywhere in it.
  const ext = () => ({
    "/credential-provider-config.yaml": config(),
    [`${TALOS_BIN}/ecr-credential-provider`]: { content: elf("/lib64/ld-linux-x86-64.so.2"), mode: 0o755 },
  });
  const run = async (argv: string[]) => {
    const { deps, lines } = makeDeps({ files: ext(), kubelet: undefined });
    deps.executablePath = `${TALOS_BIN}/ecr-credential-provider`;
    const code = await runDoctor([...argv, "--config", "/credential-provider-config.yaml", "--bin-dir", TALOS_BIN, "--offline", "--json"], deps);
    return { code, checks: (JSON.parse(lines.join("\n")) as { checks: Finding[] }).checks.filter((f) => f.check === "runtime") };
  };
  it("the extension tree itself has no loader, glibc or libstdc++ (what made install.sh refuse the Talos build)", async () => {
    const { code, checks } = await run([]);
    assert.equal(code, DOCTOR_EXIT.failed);
    assert.ok(checks.some((f) => f.status === "fail" && /ld-linux-x86-64/.test(f.message)));
  });
  it("--runtime talos checks against debian-base:bookworm: loader, glibc 2.36, libstdc++ are there", async () => {
    const { code, checks } = await run(["--runtime", "talos"]);
    assert.equal(code, 0, JSON.stringify(checks));
    assert.deepEqual(
      checks.map((f) => f.status),
      ["ok", "ok", "ok"],
    );
    assert.match(checks[1]!.message, /glibc 2\.36/);
  });
  it("no fix hint recommends a static build (the project makes none)", async () => {
    const { checks } = await run([]);
    for (const f of checks) assert.doesNotMatch(f.fix ?? "", /static/);
  });
  it("refuses an unknown --runtime", async () => {
    const { deps, lines } = makeDeps();
    assert.equal(await runDoctor(["--runtime", "alpine"], deps), DOCTOR_EXIT.usage);
    assert.match(lines.join("\n"), /--runtime must be node or talos/);
  });
});

describe("runDoctor's trust-store check says which certificates the plugin will trust, as aws/trust.ts decides", () => {
  const trust = async (patch: Record<string, MemEntry | string>, provider = PROVIDER, env: Record<string, string> = {}) => {
    const { deps, lines } = makeDeps({ files: withFiles({ ...patch, [CFG]: config(provider) }) });
    deps.env = env;
    await runDoctor(["--offline", "--json"], deps);
    return (JSON.parse(lines.join("\n")) as { checks: Finding[] }).checks.filter((f) => f.check === "trust-store");
  };
  const DEBIAN = { "/etc/ssl/certs/ca-certificates.crt": "pem", "/etc/ssl/certs/ce5e74ef.0": "pem" };

  it("Debian: the hashed /etc/ssl/certs", async () => {
    const [f, ...rest] = await trust(DEBIAN);
    assert.equal(f?.status, "ok");
    assert.match(f!.message, /hashed directory \/etc\/ssl\/certs/);
    assert.deepEqual(rest, []);
  });

  it("a bundle and no hashed directory: the bundle, parsed whole", async () => {
    const [f] = await trust({ "/etc/pki/tls/certs/ca-bundle.crt": "pem" });
    assert.equal(f?.status, "ok");
    assert.match(f!.message, /bundle \/etc\/pki\/tls\/certs\/ca-bundle\.crt/);
  });

  it("no store at all: a warning that Node's bundled roots stand in, and the fix", async () => {
    const [f] = await trust({});
    assert.equal(f?.status, "warn");
    assert.match(f!.fix ?? "", /ca-certificates/);
  });

  it("the provider's SSL_CERT_DIR naming a directory without hashed names, and a missing NODE_EXTRA_CA_CERTS: warnings with fixes", async () => {
    const env = "    env:\n      - name: SSL_CERT_DIR\n        value: /etc/corp-ca\n";
    const found = await trust({ ...DEBIAN, "/etc/corp-ca/proxy.pem": "pem" }, PROVIDER + env, { NODE_EXTRA_CA_CERTS: "/etc/nope.pem" });
    assert.equal(found[0]?.status, "ok");
    assert.match(found[0]!.message, /\/etc\/corp-ca:\/etc\/ssl\/certs/);
    const warns = found.filter((f) => f.status === "warn");
    assert.equal(warns.length, 2, JSON.stringify(found));
    assert.equal(warns[0]!.fix, "openssl rehash /etc/corp-ca");
    assert.match(warns[1]!.message, /NODE_EXTRA_CA_CERTS=\/etc\/nope\.pem/);
  });
});
