// The `doctor` subcommand: checks a node's kubelet wiring, config, files, runtime and AWS access, one line per check.
import { helpText } from "../cli/help.ts";
import { DOCTOR_OPTIONS } from "../core/config.ts";
import { defaultCacheDir } from "../core/flags.ts";
import { loadCredentialProviderConfig, type CredentialProvider } from "../kubelet/config.ts";
import { normalizeImageName } from "../kubelet/match.ts";
import {
  awsFindings,
  binaryFindings,
  cacheFindings,
  configFindings,
  keyFileFindings,
  matchFindings,
  nameFindings,
  pluginArgsFindings,
  pluginSetting,
  pluginSettingList,
} from "./checks.ts";
import { extractCredentialFlags, readKubeletFlagsFile, type KubeletFlags } from "./kubelet-flags.ts";
import { checkRuntime, RUNTIME_PROFILES } from "./runtime.ts";
import { trustStoreFindings } from "./trust.ts";
import type { DoctorDeps, Finding } from "./types.ts";
import { windowsAclFinding, windowsBinaryFindings, windowsKnownLocations } from "./windows.ts";

export type { CommandResult, DoctorDeps, DoctorFs, DoctorStat, Finding, ProbeProvider, ProbeResult } from "./types.ts";
export { createNodeDoctorDeps, readKubeletCommandLine } from "./node-deps.ts";

/**
 * Exit codes, chosen not to clash with the plugin's EXIT (core/errors.ts): 0 nothing failed (warnings
 * allowed), 6 at least one check failed, 3 bad usage (the plugin's "configuration"); 1 stays "internal error".
 */
export const DOCTOR_EXIT = { ok: 0, failed: 6, usage: 3 } as const;

/** Parsed `doctor` arguments. */
export interface DoctorOptions {
  config?: string;
  binDir?: string;
  /** "auto" (the running kubelet), "none", or a file. */
  kubeletFlags?: string;
  image?: string;
  json: boolean;
  offline: boolean;
  /** Node root: every node path (flags, config, bin dir, libs) is read under it. */
  root?: string;
  /** Check the C runtime of this image instead of the files under the root (`talos`). */
  runtime?: string;
}

export const DOCTOR_USAGE = `usage: ${helpText("", "doctor").split("\n")[1]!.trim()}`;

/** Parse doctor argv (`--x v` or `--x=v`). @throws Error with a usage message on unknown or incomplete flags. */
export function parseDoctorArgs(argv: string[]): DoctorOptions {
  const opts: DoctorOptions = { json: false, offline: false };
  // Names and arities from DOCTOR_OPTIONS (config.ts), the table --help is printed from.
  const field = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()) as keyof DoctorOptions;
  const valued: Record<string, keyof DoctorOptions> = Object.fromEntries(
    Object.entries(DOCTOR_OPTIONS)
      .filter(([, o]) => o.value)
      .map(([n]) => [`--${n}`, field(n)]),
  );
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf("=");
    const name = raw.startsWith("--") && eq > 0 ? raw.slice(0, eq) : raw;
    if (name === "--json") opts.json = true;
    else if (name === "--offline") opts.offline = true;
    else if (name === "doctor" && i === 0) continue;
    else if (valued[name]) {
      const value = eq > 0 && raw.startsWith("--") ? raw.slice(eq + 1) : argv[++i];
      if (value === undefined || value === "") throw new Error(`${name} needs a value`);
      (opts as unknown as Record<string, unknown>)[valued[name]!] = value;
    } else throw new Error(`unknown doctor argument ${JSON.stringify(raw)}`);
  }
  if (opts.runtime === "node") delete opts.runtime;
  else if (opts.runtime !== undefined && !RUNTIME_PROFILES[opts.runtime])
    throw new Error(`--runtime must be node or ${Object.keys(RUNTIME_PROFILES).join(" or ")}`);
  return opts;
}

/** Parse `Kubernetes v1.31.2` into [1, 31]. */
function parseKubeletVersion(text: string): [number, number] | undefined {
  const m = /v(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Fallback locations when neither flags nor --config say where the config is (stock paths per distro). */
const KNOWN_LOCATIONS: Array<{ config: string; binDir: string }> = [
  { config: "/etc/ecr-credential-provider/credential-provider-config.yaml", binDir: "/opt/ecr-credential-provider/bin" },
  { config: "/var/lib/rancher/credentialprovider/config.yaml", binDir: "/var/lib/rancher/credentialprovider/bin" },
  { config: "/etc/eks/image-credential-provider/config.json", binDir: "/etc/eks/image-credential-provider" },
];

function formatLine(f: Finding): string {
  return `${f.status.padEnd(4)}  ${f.check}: ${f.message}${f.fix ? `  (fix: ${f.fix})` : ""}`;
}

/**
 * Run the doctor. Order: kubelet flags → config (decode + validate as the kubelet) → provider
 * binaries and name → matchImages / aliases / --image coverage → key and cache file modes →
 * runtime → AWS (probe; skipped with --offline or without --image) and clock skew.
 * @returns the exit code ({@link DOCTOR_EXIT}); output goes through `deps.write` only.
 */
export async function runDoctor(argv: string[], deps: DoctorDeps): Promise<number> {
  let opts: DoctorOptions;
  try {
    opts = parseDoctorArgs(argv);
  } catch (e) {
    deps.write(`${(e as Error).message}\n${DOCTOR_USAGE}`);
    return DOCTOR_EXIT.usage;
  }
  const windows = deps.platform === "win32";
  const root = opts.root?.replace(/\/+$/, "");
  const at = (p: string) => (root ? `${root}${p.startsWith("/") ? "" : "/"}${p}` : p);
  const findings: Finding[] = [];
  const add = (...f: Finding[]) => findings.push(...f);

  // 1. Kubelet flags.
  const flags = await readKubeletFlags(opts, deps, at, windows, add);
  const kubeletVersion = flags ? await credentialFlagFindings(flags, opts, deps, at, windows, add) : undefined;
  if (!opts.config || !opts.binDir) await fillFromKnownLocations(opts, deps, at, windows);

  // 2. Config, binaries, names, matching.
  const ours = await configStep(opts, deps, at, windows, flags, kubeletVersion, add);

  // 3. Files the plugin reads or writes.
  await pluginFileStep(ours, deps, at, windows, add);

  // 4. Runtime.
  const getconf = root
    ? undefined
    : async () => {
        const r = await deps.runCommand("getconf", ["GNU_LIBC_VERSION"]);
        return r.code === 0 ? r.stdout : undefined;
      };
  // glibc, the ELF interpreter and libstdc++ are Linux questions; the Windows executable needs none of them.
  if (!windows) add(...(await checkRuntime(deps.fs, at, deps.executablePath, getconf, opts.runtime ? RUNTIME_PROFILES[opts.runtime] : undefined)));

  // 5. AWS.
  if (opts.offline) add({ status: "skip", check: "aws", message: "not checked (--offline)" });
  else if (!opts.image)
    add({ status: "skip", check: "aws", message: "not checked: no --image", fix: "pass --image <account>.dkr.ecr.<region>.amazonaws.com/<repo>" });
  else {
    const provider = ours ? { args: ours.args, env: ours.env } : undefined;
    add(...(await awsFindings((image) => deps.probe(image, provider), normalizeForProbe(opts.image), deps.now)));
  }

  const failed = findings.some((f) => f.status === "fail");
  if (opts.json) deps.write(JSON.stringify({ ok: !failed, checks: findings }));
  else for (const f of findings) deps.write(formatLine(f));
  return failed ? DOCTOR_EXIT.failed : DOCTOR_EXIT.ok;
}

/** The probe gets the image as the kubelet would send it (normalised), falling back to the raw string. */
function normalizeForProbe(image: string): string {
  return normalizeImageName(image) ?? image;
}

/** Maps a node path under `--root`. */
type At = (p: string) => string;
/** Appends findings in report order. */
type Add = (...f: Finding[]) => void;

/** Step 1a: the kubelet's command line, from the running kubelet or `--kubelet-flags FILE` (unless `none`). */
async function readKubeletFlags(opts: DoctorOptions, deps: DoctorDeps, at: At, windows: boolean, add: Add): Promise<KubeletFlags | undefined> {
  let flags: KubeletFlags | undefined;
  const flagsMode = opts.kubeletFlags ?? (opts.config && opts.binDir ? "none" : "auto");
  if (flagsMode === "auto") {
    const argvK = await deps.kubeletCommandLine().catch(() => undefined);
    if (argvK) flags = { argv: argvK, origin: "the running kubelet", notes: [] };
    else if (windows)
      add({
        status: "warn",
        check: "kubelet-flags",
        message: "no kubelet service found (HKLM\\SYSTEM\\CurrentControlSet\\Services\\kubelet ImagePath)",
        fix: "pass --kubelet-flags FILE (a file holding the kubelet's command line, e.g. the BINARY_PATH_NAME of `sc.exe qc kubelet`) or --config and --bin-dir",
      });
    else
      add({
        status: "warn",
        check: "kubelet-flags",
        message: "no running kubelet found",
        fix: "pass --kubelet-flags FILE (e.g. the output of `systemctl cat kubelet`)",
      });
  } else if (flagsMode !== "none") {
    try {
      flags = await readKubeletFlagsFile(await deps.fs.readFile(at(flagsMode)), flagsMode, (p) => deps.fs.readFile(at(p)));
    } catch (e) {
      add({ status: "fail", check: "kubelet-flags", message: `cannot read ${flagsMode}: ${(e as Error).message}` });
    }
  }
  return flags;
}

/** Step 1b: the credential-provider flags and feature gates the kubelet runs with; fills `opts.config`/`opts.binDir`. @returns the kubelet's version when it can be asked. */
async function credentialFlagFindings(
  flags: KubeletFlags,
  opts: DoctorOptions,
  deps: DoctorDeps,
  at: At,
  windows: boolean,
  add: Add,
): Promise<[number, number] | undefined> {
  let kubeletVersion: [number, number] | undefined;
  for (const n of flags.notes) add({ status: n.status, check: "kubelet-flags", message: n.message, fix: n.fix });
  const cf = extractCredentialFlags(flags.argv);
  // On Windows the kubelet may run under a service host (EKS-WindowsServiceHost.exe kubelet "…\kubelet.exe" …).
  const kubeletBin = windows
    ? flags.argv.find((a) => /(^|[\\/])kubelet\.exe$/i.test(a))
    : flags.argv[0] && /(^|\/)kubelet$/.test(flags.argv[0])
      ? flags.argv[0]
      : undefined;
  if (kubeletBin) {
    const r = await deps.runCommand(at(kubeletBin), ["--version"]).catch(() => undefined);
    kubeletVersion = r && r.code === 0 ? parseKubeletVersion(r.stdout) : undefined;
  }
  if (cf.config && cf.binDir)
    add({
      status: "ok",
      check: "kubelet-flags",
      message: `${flags.origin}: --image-credential-provider-config=${cf.config} --image-credential-provider-bin-dir=${cf.binDir}`,
    });
  else if (cf.config || cf.binDir) {
    add({
      status: "fail",
      check: "kubelet-flags",
      message: `${flags.origin} sets only ${cf.config ? "--image-credential-provider-config" : "--image-credential-provider-bin-dir"}; the kubelet refuses to start`,
      fix: "set both flags",
    });
  } else {
    add({
      status: "fail",
      check: "kubelet-flags",
      message: `${flags.origin} sets no --image-credential-provider-* flags; no plugin will run`,
      fix: "add both flags (see node-config/kubelet-flags.conf)",
    });
  }
  for (const [name, values] of cf.all) {
    if (name !== "feature-gates" && new Set(values).size > 1)
      add({ status: "warn", check: "kubelet-flags", message: `--${name} is given ${values.length} times; the last one (${values.at(-1)}) wins` });
  }
  featureGateFindings(cf.featureGates, kubeletVersion, add);
  opts.config ??= cf.config;
  opts.binDir ??= cf.binDir;
  return kubeletVersion;
}

/** Step 1c: without flags, the first known config location that exists. */
async function fillFromKnownLocations(opts: DoctorOptions, deps: DoctorDeps, at: At, windows: boolean): Promise<void> {
  for (const loc of windows ? windowsKnownLocations(deps.env) : KNOWN_LOCATIONS) {
    const ok = await deps.fs.stat(at(loc.config)).then(
      () => true,
      () => false,
    );
    if (ok) {
      opts.config ??= loc.config;
      opts.binDir ??= loc.binDir;
      break;
    }
  }
}

/** Step 2: config, binaries, names, matching. @returns the provider entry that runs this executable. */
async function configStep(
  opts: DoctorOptions,
  deps: DoctorDeps,
  at: At,
  windows: boolean,
  flags: KubeletFlags | undefined,
  kubeletVersion: [number, number] | undefined,
  add: Add,
): Promise<CredentialProvider | undefined> {
  let ours: CredentialProvider | undefined;
  if (!opts.config) {
    add({ status: "fail", check: "config", message: "no config: pass --config or --kubelet-flags", fix: DOCTOR_USAGE });
  } else {
    const gates = flags ? extractCredentialFlags(flags.argv).featureGates : new Map<string, string>();
    const loaded = await loadCredentialProviderConfig(at(opts.config), deps.fs, {
      serviceAccountTokenForCredentialProviders:
        gates.get("KubeletServiceAccountTokenForCredentialProviders") !== "false" && !(kubeletVersion && kubeletVersion[1] < 34 && kubeletVersion[0] === 1),
      allowDirectory: !(kubeletVersion && kubeletVersion[0] === 1 && kubeletVersion[1] < 34),
    });
    add(...configFindings(loaded));
    const providers = loaded.config?.providers ?? [];
    if (loaded.config) {
      if (opts.binDir && windows) add(...(await windowsBinaryFindings(deps.fs, at(opts.binDir), providers, kubeletVersion)));
      else if (opts.binDir) add(...(await binaryFindings(deps.fs, at, opts.binDir, providers)));
      else add({ status: "fail", check: "provider-binary", message: "no bin dir: pass --bin-dir or --kubelet-flags" });
      add(...nameFindings(deps.executablePath, providers, windows));
      const base = deps.executablePath.split(windows ? /[\\/]/ : "/").pop();
      ours =
        providers.find((p) => p.name === base || (windows && `${p.name}.exe` === base)) ??
        providers.find((p) => p.name === "ecr-credential-provider") ??
        providers[0];
      if (ours) add(...pluginArgsFindings(ours), ...matchFindings(ours, providers, opts.image, pluginSettingList(ours, deps.env, "registry-alias")));
    }
  }
  return ours;
}

/** Step 3: files the plugin reads or writes (the Roles Anywhere key, the token cache). */
async function pluginFileStep(ours: CredentialProvider | undefined, deps: DoctorDeps, at: At, windows: boolean, add: Add): Promise<void> {
  const keyPath = pluginSetting(ours, deps.env, "roles-anywhere-private-key");
  const noCache = ours?.args.includes("--no-cache") || /^(1|true|yes)$/i.test(pluginSetting(ours, deps.env, "no-cache") ?? "");
  if (windows) {
    if (keyPath) add(windowsAclFinding("roles-anywhere-key", keyPath.replace(/[\\/][^\\/]*$/, ""), "the private key"));
    if (noCache) add({ status: "ok", check: "cache-dir", message: "token cache disabled (--no-cache)" });
    else add(windowsAclFinding("cache-dir", pluginSetting(ours, deps.env, "cache-dir") || defaultCacheDir(deps.env, "win32"), "the token cache"));
  } else {
    add(...(await keyFileFindings(deps.fs, at, keyPath)));
    add(...(await cacheFindings(deps.fs, at, pluginSetting(ours, deps.env, "cache-dir"), noCache)));
  }
  // The kubelet runs the plugin with its own environment plus the provider entry's env.
  add(...(await trustStoreFindings(deps.fs, at, { ...deps.env, ...Object.fromEntries((ours?.env ?? []).map((e) => [e.name, e.value])) }, windows)));
}

/** Step 1b (cont.): feature gates the kubelet would refuse, or that turn off tokenAttributes. */
function featureGateFindings(featureGates: Map<string, string>, kubeletVersion: [number, number] | undefined, add: Add): void {
  if (featureGates.has("KubeletCredentialProviders")) {
    const old = kubeletVersion && (kubeletVersion[0] < 1 || (kubeletVersion[0] === 1 && kubeletVersion[1] < 28));
    add({
      status: old ? "warn" : "fail",
      check: "feature-gates",
      message: old
        ? `KubeletCredentialProviders is set; harmless on kubelet ${kubeletVersion!.join(".")} but removed in 1.28`
        : `--feature-gates=KubeletCredentialProviders=… is set; the gate was removed in 1.28 and the kubelet${kubeletVersion ? ` ${kubeletVersion.join(".")}` : ""} exits with "unrecognized feature gate"`,
      fix: "remove KubeletCredentialProviders from --feature-gates",
    });
  }
  if (featureGates.get("KubeletServiceAccountTokenForCredentialProviders") === "false") {
    add({ status: "warn", check: "feature-gates", message: "KubeletServiceAccountTokenForCredentialProviders=false: tokenAttributes are refused" });
  }
}
