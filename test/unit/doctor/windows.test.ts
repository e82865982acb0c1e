// Windows pieces that run anywhere: command-line splitting, the doctor's Windows checks, the
// default cache path, and the consistency of node-config/wiring/windows/ (install.ps1 and the EKS
// user data cannot run here: no PowerShell, so their paths and flag pattern are checked as text).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { defaultCacheDir, readConfig } from "../../../src/core/config.ts";
import { extractCredentialFlags } from "../../../src/doctor/kubelet-flags.ts";
import { expandWindowsEnv, parseRegImagePath, splitWindowsCommandLine, windowsBinaryFindings, windowsKnownLocations } from "../../../src/doctor/windows.ts";
import type { DoctorFs } from "../../../src/doctor/types.ts";
import type { CredentialProvider } from "../../../src/kubelet/config.ts";

const wiring = (f: string) => readFileSync(new URL(`../../../node-config/wiring/windows/${f}`, import.meta.url), "utf8");
const WIN_ENV = { ProgramData: "C:\\ProgramData", ProgramFiles: "C:\\Program Files", SystemRoot: "C:\\Windows" };

/** What Start-EKSBootstrap.ps1 registers as the kubelet service's ImagePath (derived from atg-cloudops/eks-windows-bootstrapper @1e6f8309, RegisterKubernetesServices). */
const EKS_IMAGE_PATH =
  '"C:\\Program Files\\Amazon\\EKS\\EKS-WindowsServiceHost.exe" kubelet "C:\\Program Files\\kubernetes\\kubelet.exe" --config="C:\\ProgramData\\kubernetes\\kubelet-config.json" --cloud-provider=external ' +
  '--kubeconfig="C:\\ProgramData\\kubernetes\\kubeconfig" --hostname-override=ip-10-0-0-1.ec2.internal --v=1 --pod-infra-container-image="123456789012.dkr.ecr.us-east-1.amazonaws.com/eks/pause-windows:latest" ' +
  '--resolv-conf="" --enable-debugging-handlers --cgroups-per-qos=false --enforce-node-allocatable="" --container-runtime-endpoint="npipe:////./pipe/containerd-containerd" ' +
  '--image-credential-provider-bin-dir="C:\\Program Files\\Amazon\\EKS\\credential-providers" --image-credential-provider-config="C:\\Program Files\\Amazon\\EKS\\ecr-credential-provider-config.json" --node-ip=10.0.0.1';

describe("Windows command lines", () => {
  it("splits as CommandLineToArgvW: quotes group, backslashes before a quote halve, others are literal", () => {
    assert.deepEqual(splitWindowsCommandLine('"C:\\Program Files\\k.exe" a\\b "c d" e"f g"h \\"x\\" "" 3\\\\"y z"'), [
      "C:\\Program Files\\k.exe",
      "a\\b",
      "c d",
      "ef gh",
      '"x"',
      "",
      "3\\y z",
    ]);
  });
  it("reads EKS's kubelet service line: kubelet.exe, and EKS's own credential flags", () => {
    const argv = splitWindowsCommandLine(EKS_IMAGE_PATH);
    assert.equal(argv[2], "C:\\Program Files\\kubernetes\\kubelet.exe");
    const cf = extractCredentialFlags(argv);
    assert.equal(cf.config, "C:\\Program Files\\Amazon\\EKS\\ecr-credential-provider-config.json");
    assert.equal(cf.binDir, "C:\\Program Files\\Amazon\\EKS\\credential-providers");
  });
  it("the flags in kubelet-flags.txt, appended last (as -KubeletExtraArgs is), win over EKS's", () => {
    const ours = wiring("kubelet-flags.txt").trim();
    const cf = extractCredentialFlags(splitWindowsCommandLine(`${EKS_IMAGE_PATH} ${ours}`));
    assert.equal(cf.config, "C:\\ProgramData\\ecr-credential-provider\\credential-provider-config.json");
    assert.equal(cf.binDir, "C:\\ProgramData\\ecr-credential-provider\\bin");
  });
  it("parses reg.exe query output and expands %VARS% case-insensitively", () => {
    const out = `\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\kubelet\r\n    ImagePath    REG_EXPAND_SZ    %systemroot%\\k\\kubelet.exe --v=1\r\n\r\n`;
    assert.equal(expandWindowsEnv(parseRegImagePath(out)!, WIN_ENV), "C:\\Windows\\k\\kubelet.exe --v=1");
    assert.equal(parseRegImagePath("ERROR: The system was unable to find the specified registry key or value."), undefined);
  });
});

describe("Windows defaults", () => {
  it("caches under %ProgramData% on Windows and keeps /var/cache on Linux", () => {
    assert.equal(defaultCacheDir(WIN_ENV, "win32"), "C:\\ProgramData\\ecr-credential-provider\\cache");
    assert.equal(defaultCacheDir({ ProgramData: "D:\\Data\\" }, "win32"), "D:\\Data\\ecr-credential-provider\\cache");
    assert.equal(defaultCacheDir({}, "win32"), "C:\\ProgramData\\ecr-credential-provider\\cache");
    assert.equal(defaultCacheDir(WIN_ENV, "linux"), "/var/cache/ecr-credential-provider");
    assert.equal(readConfig([], WIN_ENV).cacheDir, "/var/cache/ecr-credential-provider");
    assert.equal(readConfig([], WIN_ENV, "win32").cacheDir, "C:\\ProgramData\\ecr-credential-provider\\cache");
  });
  it("looks for our install first, then EKS's, when doctor has no flags", () => {
    assert.deepEqual(
      windowsKnownLocations(WIN_ENV).map((l) => l.config),
      ["C:\\ProgramData\\ecr-credential-provider\\credential-provider-config.json", "C:\\Program Files\\Amazon\\EKS\\ecr-credential-provider-config.json"],
    );
  });
});

describe("doctor: the Windows kubelet's .exe lookup", () => {
  const files = new Set(["C:\\b", "C:\\b\\ecr-credential-provider.exe"]);
  const fs = {
    stat: async (p: string) => {
      if (!files.has(p)) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
      return { isDirectory: () => p === "C:\\b", isFile: () => p !== "C:\\b", mode: 0o666, uid: 0 };
    },
  } as unknown as DoctorFs;
  const provider = (name: string) =>
    ({
      name,
      matchImages: [],
      args: [],
      env: [],
      defaultCacheDuration: "12h",
      apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    }) as unknown as CredentialProvider;
  it("finds <name>.exe for kubelet >= 1.30 or an unknown version", async () => {
    assert.equal((await windowsBinaryFindings(fs, "C:\\b", [provider("ecr-credential-provider")], [1, 31]))[0]!.status, "ok");
    assert.equal((await windowsBinaryFindings(fs, "C:\\b", [provider("ecr-credential-provider")], undefined))[0]!.status, "ok");
  });
  it("fails the short name on kubelet 1.29, which does not add .exe; the .exe name works there", async () => {
    const [f] = await windowsBinaryFindings(fs, "C:\\b", [provider("ecr-credential-provider")], [1, 29]);
    assert.equal(f!.status, "fail");
    assert.match(f!.fix!, /ecr-credential-provider\.exe/);
    assert.equal((await windowsBinaryFindings(fs, "C:\\b", [provider("ecr-credential-provider.exe")], [1, 29]))[0]!.status, "ok");
  });
  it("fails a provider with no file", async () => {
    assert.equal((await windowsBinaryFindings(fs, "C:\\b", [provider("other")], [1, 31]))[0]!.status, "fail");
  });
});

describe("node-config/wiring/windows (PowerShell not run here: checked as text)", () => {
  const install = wiring("install.ps1");
  const eks = wiring("eks-user-data.ps1");
  const flags = wiring("kubelet-flags.txt").trim();
  it("install.ps1 installs where kubelet-flags.txt, the EKS user data and the runtime default point", () => {
    assert.match(install, /\$InstallDir = \(Join-Path \$env:ProgramData 'ecr-credential-provider'\)/);
    assert.match(install, /\$BinDir = Join-Path \$InstallDir 'bin'/);
    assert.match(install, /\$Config = Join-Path \$InstallDir 'credential-provider-config\.json'/);
    assert.match(install, /Join-Path \$InstallDir 'cache'/);
    assert.ok(eks.includes(`-KubeletExtraArgs '${flags}'`), "eks-user-data.ps1 passes kubelet-flags.txt");
    assert.ok(flags.includes(defaultCacheDir(WIN_ENV, "win32").replace(/\\cache$/, "\\credential-provider-config.json")));
    assert.equal(flags.split(/\s+/).length, 2, "two flags, no spaces inside the paths (the EKS bootstrap and Karpenter re-quote extra args)");
  });
  it("install.ps1 sets the ACL by SID, as the runtime does", () => {
    assert.ok(install.includes("/inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F'"));
    assert.ok(
      readFileSync(new URL("../../../src/cache/token-cache.ts", import.meta.url), "utf8").includes(
        '"/inheritance:r", "/grant:r", "*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F"',
      ),
    );
  });
  it("install.ps1's pattern removes EKS's credential flags (quoted, with spaces) and earlier copies of ours, nothing else", () => {
    const m = /\$FlagPattern = '(.*)'\r?\n/.exec(install);
    assert.ok(m, "no $FlagPattern");
    const re = new RegExp(m[1]!.replaceAll("''", "'"), "g");
    const wired = `${EKS_IMAGE_PATH.replace(re, "")} ${flags}`;
    const again = `${wired.replace(re, "")} ${flags}`;
    assert.equal(again, wired, "a second run changes nothing");
    const argv = splitWindowsCommandLine(wired);
    assert.equal(argv.filter((a) => a.startsWith("--image-credential-provider-")).length, 2);
    assert.deepEqual(
      argv.filter((a) => !a.startsWith("--image-credential-provider-")),
      splitWindowsCommandLine(EKS_IMAGE_PATH).filter((a) => !a.startsWith("--image-credential-provider-")),
    );
  });
  it("the EKS user data names the release zip the release script makes", () => {
    assert.match(eks, /ecr-credential-provider-\$Version-windows-amd64\.zip/);
    assert.match(eks, /ecr-credential-provider-\$Version-windows-amd64\\install\.ps1/);
  });
});
