// The doctor's configuration, file-mode and AWS checks; each returns findings and never throws for node problems.
import { readConfig } from "../core/config.ts";
import { parseAliases } from "../core/registry.ts";
import { type CredentialProvider, type LoadedConfig } from "../kubelet/config.ts";
import { DEFAULT_CACHE_DIR, envName, flagValues, splitList } from "../core/flags.ts";
import { imageMatches, normalizeImageName } from "../kubelet/match.ts";
import type { DoctorFs, Finding, ProbeResult } from "./types.ts";

/** Clock skew thresholds: SigV4 rejects requests more than 5 minutes off. */
export const SKEW_WARN_MS = 60_000;
export const SKEW_FAIL_MS = 300_000;

/** The last value of `--name=v` / `--name v` in provider args, then the provider env, then the doctor env (the plugin's flag table and twins). */
export function pluginSetting(provider: CredentialProvider | undefined, env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const found = flagValues(provider?.args ?? [], name).at(-1);
  if (found !== undefined) return found;
  const twin = envName(name);
  const fromProvider = provider?.env.filter((e) => e.name === twin).at(-1)?.value;
  return fromProvider ?? env[twin];
}

/**
 * The `plugin-args` check: the provider's args and env through the plugin's own parser and alias
 * checks (what a kubelet run does first), so a bad value fails here instead of on every pull.
 */
export function pluginArgsFindings(provider: CredentialProvider): Finding[] {
  try {
    parseAliases(readConfig(provider.args, Object.fromEntries(provider.env.map((e) => [e.name, e.value]))).registryAliases);
    return [{ status: "ok", check: "plugin-args", message: `${provider.name}: args and env accepted by the plugin` }];
  } catch (err) {
    return [
      {
        status: "fail",
        check: "plugin-args",
        message: `${provider.name}: ${err instanceof Error ? err.message : String(err)}`,
        fix: "see ecr-credential-provider --help",
      },
    ];
  }
}

/** Every value of a repeatable plugin flag (`--registry-alias`), from args, else its twin (provider env, then doctor env), split as the plugin splits it. */
export function pluginSettingList(provider: CredentialProvider | undefined, env: Readonly<Record<string, string | undefined>>, name: string): string[] {
  const out = flagValues(provider?.args ?? [], name);
  if (out.length > 0) return out;
  const v = pluginSetting(provider && { ...provider, args: [] }, env, name);
  return v ? splitList(v) : [];
}

/** The `config` check: every read/decode/validation issue the kubelet would stop on. */
export function configFindings(loaded: LoadedConfig): Finding[] {
  if (loaded.issues.length === 0 && loaded.config) {
    const names = loaded.config.providers.map((p) => p.name).join(", ");
    return [{ status: "ok", check: "config", message: `${loaded.files.join(", ")}: valid; providers: ${names}` }];
  }
  return loaded.issues.map((i) => ({
    status: "fail" as const,
    check: "config",
    message: i.message,
    fix:
      i.kind === "decode" && /number into Go struct field .*Duration/.test(i.message)
        ? 'quote the duration: defaultCacheDuration: "12h"'
        : "the kubelet refuses to start with this config; fix the field named",
  }));
}

const isExecutable = (mode: number) => (mode & 0o111) !== 0;

/** The `provider-binary` check: `<bin-dir>/<name>` exists and is executable for every provider (else the kubelet exits). */
export async function binaryFindings(fs: DoctorFs, at: (p: string) => string, binDir: string, providers: CredentialProvider[]): Promise<Finding[]> {
  const out: Finding[] = [];
  try {
    if (!(await fs.stat(at(binDir))).isDirectory()) throw new Error("not a directory");
  } catch {
    return [{ status: "fail", check: "provider-binary", message: `bin dir ${binDir} does not exist`, fix: "create it and install the executable there" }];
  }
  for (const p of providers) {
    const path = `${binDir.replace(/\/+$/, "")}/${p.name}`;
    try {
      const st = await fs.stat(at(path));
      if (!st.isFile()) out.push({ status: "fail", check: "provider-binary", message: `${path} is not a regular file` });
      else if (!isExecutable(st.mode))
        out.push({
          status: "fail",
          check: "provider-binary",
          message: `${path} is not executable (mode ${(st.mode & 0o7777).toString(8)})`,
          fix: `chmod 0755 ${path}`,
        });
      else out.push({ status: "ok", check: "provider-binary", message: `${path} exists and is executable` });
    } catch {
      out.push({
        status: "fail",
        check: "provider-binary",
        message: `provider ${JSON.stringify(p.name)} has no executable ${path}; the kubelet exits at start-up`,
        fix: `install the binary as ${path} or rename the provider to the binary's file name`,
      });
    }
  }
  return out;
}

/** The `provider-name` check: some provider is named like this executable's file name. */
export function nameFindings(executablePath: string, providers: CredentialProvider[], windows = false): Finding[] {
  const base = executablePath.split(windows ? /[\\/]/ : "/").pop() ?? executablePath;
  // Windows: the kubelet (>= 1.30) finds `<name>.exe` for a provider named `<name>`.
  if (providers.some((p) => p.name === base || (windows && `${p.name}.exe`.toLowerCase() === base.toLowerCase())))
    return [{ status: "ok", check: "provider-name", message: `provider ${JSON.stringify(base)} matches this executable's file name` }];
  return [
    {
      status: "fail",
      check: "provider-name",
      message: `no provider is named ${JSON.stringify(base)} (the executable's file name); providers: ${providers.map((p) => JSON.stringify(p.name)).join(", ") || "none"}`,
      fix: `name the provider ${JSON.stringify(base)}, or install the executable under the provider's name`,
    },
  ];
}

const ECR_HOST = /(^|\.)(dkr\.ecr(-fips)?|dkr-ecr(-fips)?)\.|^(public\.ecr\.aws|ecr-public\.aws\.com)$/;

/** The `match-images` and `registry-alias` checks for our provider, plus `--image` coverage. */
export function matchFindings(ours: CredentialProvider, all: CredentialProvider[], image: string | undefined, aliases: string[]): Finding[] {
  const out: Finding[] = [];
  for (const m of ours.matchImages) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(m)) {
      out.push({
        status: "fail",
        check: "match-images",
        message: `${JSON.stringify(m)} has a scheme; the kubelet prefixes https:// itself, so it never matches`,
        fix: `write ${JSON.stringify(m.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ""))}`,
      });
    } else if (/\/.*[*?]/.test(m)) {
      out.push({ status: "warn", check: "match-images", message: `${JSON.stringify(m)}: globs in the path are literal; only host labels take "*"` });
    } else if (m !== m.toLowerCase()) {
      // Deliberate when the lower-case form is listed too (the shipped configs do this for
      // upper-case image names); a mistake when it is the only form.
      out.push(
        ours.matchImages.includes(m.toLowerCase())
          ? {
              status: "ok",
              check: "match-images",
              message: `${JSON.stringify(m)} adds the upper-case spelling of ${JSON.stringify(m.toLowerCase())} (matching is case-sensitive)`,
            }
          : {
              status: "warn",
              check: "match-images",
              message: `${JSON.stringify(m)}: matching is case-sensitive; images are normally lower-case`,
              fix: `also list ${JSON.stringify(m.toLowerCase())}`,
            },
      );
    }
    const host = m.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split("/")[0]!;
    // The plugin compares hosts case-insensitively (registry.ts), so an upper-case ECR pattern is still ECR.
    if (!ECR_HOST.test(host.replace(/:\d+$/, "").toLowerCase())) {
      const aliased = aliases.some((a) => a.split("=")[0] === host);
      out.push(
        aliased
          ? { status: "ok", check: "registry-alias", message: `${host} is mapped by --registry-alias` }
          : {
              status: "warn",
              check: "registry-alias",
              message: `${host} is not an ECR host and has no --registry-alias; the plugin will refuse its images`,
              fix: `add --registry-alias=${host}=<account>.dkr.ecr.<region>.amazonaws.com to args`,
            },
      );
    }
  }
  if (image !== undefined) out.push(imageCoverage(ours, all, image));
  return out;
}

/** `--image`: whether the kubelet would run our provider for that image. */
function imageCoverage(ours: CredentialProvider, all: CredentialProvider[], image: string): Finding {
  const name = normalizeImageName(image);
  if (name === undefined) {
    return {
      status: "fail",
      check: "match-images",
      message: `${JSON.stringify(image)} is not a valid image reference; the kubelet never asks a provider for it`,
    };
  }
  if (ours.matchImages.some((m) => imageMatches(m, name))) {
    return { status: "ok", check: "match-images", message: `${name} is matched by provider ${JSON.stringify(ours.name)}` };
  }
  const other = all.find((p) => p !== ours && p.matchImages.some((m) => imageMatches(m, name)));
  return {
    status: "fail",
    check: "match-images",
    message: `${name} is not matched by provider ${JSON.stringify(ours.name)}${other ? ` (only by ${JSON.stringify(other.name)})` : ""}; the kubelet will not run it for this image`,
    fix: "add a matchImages pattern with the same number of host labels and the same port",
  };
}

/** The `roles-anywhere-key` check: the private key named in args is 0600 (0400) and owned by root. */
export async function keyFileFindings(fs: DoctorFs, at: (p: string) => string, keyPath: string | undefined): Promise<Finding[]> {
  if (!keyPath) return [];
  try {
    const st = await fs.stat(at(keyPath));
    if ((st.mode & 0o077) !== 0 || st.uid !== 0) {
      return [
        {
          status: "fail",
          check: "roles-anywhere-key",
          message: `${keyPath} is mode ${(st.mode & 0o777).toString(8)} owner ${st.uid}; the private key must be readable by root only`,
          fix: `chown root:root ${keyPath} && chmod 0600 ${keyPath}`,
        },
      ];
    }
    return [{ status: "ok", check: "roles-anywhere-key", message: `${keyPath} is root-only` }];
  } catch {
    return [
      { status: "fail", check: "roles-anywhere-key", message: `${keyPath} does not exist`, fix: "install the Roles Anywhere private key there (0600, root)" },
    ];
  }
}

/** The `cache-dir` check: the token cache is a root-owned 0700 directory of root-owned 0600 files. */
export async function cacheFindings(fs: DoctorFs, at: (p: string) => string, dir: string | undefined, disabled: boolean): Promise<Finding[]> {
  const check = "cache-dir";
  if (disabled) return [{ status: "ok", check, message: "token cache disabled (--no-cache)" }];
  const path = dir && dir !== "" ? dir : DEFAULT_CACHE_DIR;
  let st;
  try {
    st = await fs.stat(at(path));
  } catch {
    return [{ status: "ok", check, message: `${path} does not exist yet; the plugin creates it 0700 on first use` }];
  }
  if (!st.isDirectory()) return [{ status: "fail", check, message: `${path} is not a directory`, fix: `rm ${path}` }];
  const out: Finding[] = [];
  if ((st.mode & 0o077) !== 0 || st.uid !== 0) {
    out.push({
      status: "fail",
      check,
      message: `${path} is mode ${(st.mode & 0o777).toString(8)} owner ${st.uid}; cached ECR tokens would be readable by others`,
      fix: `chown root:root ${path} && chmod 0700 ${path}`,
    });
  }
  for (const name of await fs.readdir(at(path)).catch(() => [] as string[])) {
    const file = `${path}/${name}`;
    const fst = await fs.stat(at(file)).catch(() => undefined);
    if (fst && fst.isFile() && ((fst.mode & 0o077) !== 0 || fst.uid !== 0)) {
      out.push({
        status: "fail",
        check,
        message: `${file} is mode ${(fst.mode & 0o777).toString(8)} owner ${fst.uid}`,
        fix: `chown root:root ${file} && chmod 0600 ${file}`,
      });
    }
  }
  if (out.length === 0) out.push({ status: "ok", check, message: `${path} is 0700 root with 0600 root files` });
  return out;
}

/** The `aws-credentials`, `ecr` and `clock-skew` checks from one probe. */
export async function awsFindings(probe: (image: string) => Promise<ProbeResult>, image: string, now: () => Date): Promise<Finding[]> {
  let r: ProbeResult;
  try {
    r = await probe(image);
  } catch (e) {
    return [{ status: "fail", check: "aws-credentials", message: `probe failed: ${(e as Error).message}` }];
  }
  const out: Finding[] = [];
  if (r.source) out.push({ status: "ok", check: "aws-credentials", message: `resolved from ${r.source}` });
  else if (!r.ok) {
    out.push({
      status: "fail",
      check: "aws-credentials",
      message: `${r.error?.code ?? "error"}: ${r.error?.message ?? "no credentials"}`,
      fix: "give the node an instance role, IRSA/Roles Anywhere args, or AWS_* env in the provider config",
    });
  }
  if (r.ok) {
    const exp = r.expiresAt ? `, token expires ${r.expiresAt.toISOString()}` : "";
    out.push({ status: "ok", check: "ecr", message: `token for ${image}${r.region ? ` in ${r.region}` : ""}${r.endpoint ? ` via ${r.endpoint}` : ""}${exp}` });
  } else if (r.source) {
    out.push({
      status: "fail",
      check: "ecr",
      message: `${r.error?.code ?? "error"}: ${r.error?.message ?? "ECR refused"}`,
      fix: "allow ecr:GetAuthorizationToken (and the repository's pull actions) for this identity; check the endpoint is reachable",
    });
  }
  if (r.serverDate) {
    const skew = Math.abs(now().getTime() - r.serverDate.getTime());
    const secs = Math.round(skew / 1000);
    const status = skew > SKEW_FAIL_MS ? "fail" : skew > SKEW_WARN_MS ? "warn" : "ok";
    out.push({
      status,
      check: "clock-skew",
      message: `node clock is ${secs}s off AWS`,
      ...(status === "ok" ? {} : { fix: "enable time sync (chronyd / systemd-timesyncd)" }),
    });
  }
  return out;
}
