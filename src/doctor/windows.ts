// The doctor's checks as they apply on a Windows node: the kubelet service's command line from the
// registry, the kubelet's .exe lookup, and ACLs instead of file modes. Only loaded on win32.
import type { CredentialProvider } from "../kubelet/config.ts";
import type { DoctorFs, Finding } from "./types.ts";

/** What `icacls` must leave on the cache and key directories: LocalSystem and Administrators, no inheritance (SIDs: names are localised). */
export const ACL_FIX = (path: string) => `icacls "${path}" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F`;

/**
 * Splits a Windows command line as CommandLineToArgvW does (what Go's and Node's runtimes use):
 * whitespace separates; "…" groups; 2n backslashes before a quote are n backslashes and the
 * quote toggles; 2n+1 are n backslashes and a literal quote; other backslashes are literal.
 */
export function splitWindowsCommandLine(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inArg = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "\\") {
      let n = 0;
      while (line[i] === "\\") {
        n++;
        i++;
      }
      if (line[i] === '"') {
        cur += "\\".repeat(Math.floor(n / 2));
        if (n % 2 === 1) cur += '"';
        else quoted = !quoted;
      } else {
        cur += "\\".repeat(n);
        i--;
      }
      inArg = true;
    } else if (c === '"') {
      // "" inside a quoted run is a literal quote (the MSVCRT rule since 2008).
      if (quoted && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
      inArg = true;
    } else if ((c === " " || c === "\t") && !quoted) {
      if (inArg) out.push(cur);
      cur = "";
      inArg = false;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (inArg) out.push(cur);
  return out;
}

/** The ImagePath value from `reg query <key> /v ImagePath` output, or undefined. */
export function parseRegImagePath(output: string): string | undefined {
  const m = /^\s*ImagePath\s+REG_(?:EXPAND_)?SZ\s+(.*?)\s*$/m.exec(output);
  return m?.[1];
}

/** %VAR% references expanded from env (ImagePath is REG_EXPAND_SZ), case-insensitively as Windows does. */
export function expandWindowsEnv(s: string, env: Readonly<Record<string, string | undefined>>): string {
  const lower = new Map(Object.entries(env).map(([k, v]) => [k.toLowerCase(), v]));
  return s.replace(/%([^%]+)%/g, (all, name: string) => lower.get(name.toLowerCase()) ?? all);
}

/** Where configs live on Windows nodes when neither flags nor --config say (ours, then EKS's). */
export function windowsKnownLocations(env: Readonly<Record<string, string | undefined>>): Array<{ config: string; binDir: string }> {
  const data = (env["ProgramData"] || env["PROGRAMDATA"] || "C:\\ProgramData").replace(/\\+$/, "");
  const files = (env["ProgramFiles"] || env["PROGRAMFILES"] || "C:\\Program Files").replace(/\\+$/, "");
  return [
    { config: `${data}\\ecr-credential-provider\\credential-provider-config.json`, binDir: `${data}\\ecr-credential-provider\\bin` },
    { config: `${files}\\Amazon\\EKS\\ecr-credential-provider-config.json`, binDir: `${files}\\Amazon\\EKS\\credential-providers` },
  ];
}

/**
 * The `provider-binary` check as the Windows kubelet resolves `<bin-dir>\<name>`: a name with an
 * extension is used as is; otherwise kubelet >= 1.30 (exec.LookPath) tries PATHEXT, so `.exe`
 * is found, while <= 1.29 needs a file with exactly the provider's name. No exec bit on NTFS.
 */
export async function windowsBinaryFindings(
  fs: DoctorFs,
  binDir: string,
  providers: CredentialProvider[],
  kubeletVersion: [number, number] | undefined,
): Promise<Finding[]> {
  const check = "provider-binary";
  try {
    if (!(await fs.stat(binDir)).isDirectory()) throw new Error("not a directory");
  } catch {
    return [{ status: "fail", check, message: `bin dir ${binDir} does not exist`, fix: "create it and install the executable there" }];
  }
  const dir = binDir.replace(/[\\/]+$/, "");
  const isFile = (p: string) =>
    fs.stat(p).then(
      (s) => s.isFile(),
      () => false,
    );
  const out: Finding[] = [];
  for (const p of providers) {
    const exact = `${dir}\\${p.name}`;
    if (/\.[A-Za-z0-9]+$/.test(p.name) || (await isFile(exact))) {
      out.push(
        (await isFile(exact))
          ? { status: "ok", check, message: `${exact} exists` }
          : {
              status: "fail",
              check,
              message: `provider ${JSON.stringify(p.name)} has no file ${exact}; the kubelet exits at start-up`,
              fix: `install the executable as ${exact}`,
            },
      );
      continue;
    }
    const withExe = `${exact}.exe`;
    if (!(await isFile(withExe))) {
      out.push({
        status: "fail",
        check,
        message: `provider ${JSON.stringify(p.name)} has neither ${exact} nor ${withExe}; the kubelet exits at start-up`,
        fix: `install the executable as ${withExe}`,
      });
    } else if (kubeletVersion && kubeletVersion[0] === 1 && kubeletVersion[1] < 30) {
      out.push({
        status: "fail",
        check,
        message: `kubelet ${kubeletVersion.join(".")} does not add .exe to provider names (1.30 does); it will not find ${exact}`,
        fix: `name the provider ${JSON.stringify(`${p.name}.exe`)}`,
      });
    } else {
      out.push({
        status: "ok",
        check,
        message: `${withExe} exists (the kubelet adds .exe from 1.30 on${kubeletVersion ? "" : "; for older kubelets name the provider with .exe"})`,
      });
    }
  }
  return out;
}

/** File modes mean nothing on NTFS; say what protects the directory instead and how to set it. */
export function windowsAclFinding(check: string, dir: string, what: string): Finding {
  return {
    status: "skip",
    check,
    message: `${dir}: file modes do not apply on Windows; ${what} is protected by the directory's ACL, which doctor does not read`,
    fix: ACL_FIX(dir),
  };
}
