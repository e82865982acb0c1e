// Recover the kubelet's effective flags from its command line, a systemd unit/drop-in, an env file, a NodeConfig or a k3s/kubeadm config.
import { parse as parseYaml } from "yaml";

/** A problem found while reading the flag source (reported under the `kubelet-flags` check). */
export interface FlagNote {
  status: "warn" | "fail";
  message: string;
  fix?: string;
}

/** The kubelet arguments in order, where they came from, and what looked wrong on the way. */
export interface KubeletFlags {
  argv: string[];
  origin: string;
  notes: FlagNote[];
}

/** Read a file relative to the node root; rejects when missing. */
export type ReadText = (path: string) => Promise<string>;

/** Split a shell-ish word list: whitespace separated, with '…' and "…" quoting and \ escapes. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let cur = "";
  let has = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      has = true;
    } else if (c === "\\" && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) words.push(cur);
      cur = "";
      has = false;
    } else {
      cur += c;
    }
  }
  if (has || cur) words.push(cur);
  return words;
}

/** Parse an EnvironmentFile / /etc/default file: KEY=VALUE lines, optional quotes, # comments. */
export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.replace(/\\\n/g, "").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const words = splitWords(m[2]!);
    out.set(m[1]!, m[2]!.trim() === "" ? "" : words.join(" "));
  }
  return out;
}

/** Flags the kit cares about, as pflag keeps them: last occurrence wins; feature gates merge. */
export interface CredentialFlags {
  config?: string;
  binDir?: string;
  /** Every value given, in order, per flag (to warn when one is overridden). */
  all: Map<string, string[]>;
  featureGates: Map<string, string>;
}

const VALUE_FLAGS = new Set(["image-credential-provider-config", "image-credential-provider-bin-dir", "feature-gates"]);

/** Extract the credential-provider flags and feature gates from kubelet argv (`--f=v` or `--f v`). */
export function extractCredentialFlags(argv: string[]): CredentialFlags {
  const all = new Map<string, string[]>();
  const featureGates = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/s.exec(argv[i]!);
    if (!m || !VALUE_FLAGS.has(m[1]!)) continue;
    let value = m[2];
    if (value === undefined) value = argv[++i] ?? "";
    const list = all.get(m[1]!) ?? [];
    list.push(value);
    all.set(m[1]!, list);
    if (m[1] === "feature-gates") {
      for (const kv of value.split(",")) {
        const [k, v] = kv.split("=");
        if (k) featureGates.set(k.trim(), (v ?? "").trim());
      }
    }
  }
  const last = (k: string) => all.get(k)?.at(-1);
  return { config: last("image-credential-provider-config"), binDir: last("image-credential-provider-bin-dir"), all, featureGates };
}

interface UnitModel {
  environment: Array<{ name: string; value: string }>;
  environmentFiles: Array<{ path: string; optional: boolean }>;
  execStart?: string;
}

/** Parse systemd unit text (possibly `systemctl cat` output: several files concatenated). */
function parseUnit(text: string): UnitModel {
  const model: UnitModel = { environment: [], environmentFiles: [] };
  for (const raw of text.replace(/\\\n/g, " ").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";") || line.startsWith("[")) continue;
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === "Environment") {
      if (value.trim() === "") model.environment = [];
      for (const word of splitWords(value)) {
        const eq = word.indexOf("=");
        if (eq > 0) model.environment.push({ name: word.slice(0, eq), value: word.slice(eq + 1) });
      }
    } else if (key === "EnvironmentFile") {
      if (value.trim() === "") model.environmentFiles = [];
      else {
        const optional = value.startsWith("-");
        model.environmentFiles.push({ path: optional ? value.slice(1).trim() : value.trim(), optional });
      }
    } else if (key === "ExecStart") {
      model.execStart = value.trim() === "" ? undefined : value.replace(/^[-@:+!]+/, "");
    }
  }
  return model;
}

/** Expand `$VAR` (split into words) and `${VAR}` (one word) in an ExecStart line, as systemd does. */
function expandExecStart(line: string, env: Map<string, string>): string[] {
  const out: string[] = [];
  for (const word of splitWords(line)) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) {
      out.push(...splitWords(env.get(whole[1]!) ?? ""));
      continue;
    }
    out.push(word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, n: string) => env.get(n) ?? ""));
  }
  return out;
}

async function fromUnit(text: string, origin: string, readText: ReadText): Promise<KubeletFlags> {
  const unit = parseUnit(text);
  const notes: FlagNote[] = [];
  const env = new Map<string, string>();
  for (const e of unit.environment) env.set(e.name, e.value);
  const fromFiles = new Map<string, { value: string; file: string }>();
  for (const f of unit.environmentFiles) {
    let content: string;
    try {
      content = await readText(f.path);
    } catch {
      if (!f.optional)
        notes.push({ status: "fail", message: `EnvironmentFile=${f.path} is missing and not optional`, fix: `create ${f.path} or prefix it with "-"` });
      continue;
    }
    for (const [k, v] of parseEnvFile(content)) fromFiles.set(k, { value: v, file: f.path });
  }
  // systemd: EnvironmentFile= values override Environment= values, whatever their order.
  for (const e of unit.environment) {
    const shadow = fromFiles.get(e.name);
    if (shadow && shadow.value !== e.value) {
      const loses = /image-credential-provider/.test(e.value);
      notes.push({
        status: loses ? "fail" : "warn",
        message: `Environment=${e.name}=… is overridden by EnvironmentFile=${shadow.file}${loses ? "; the credential-provider flags in it never reach the kubelet" : ""}`,
        fix: `put the flags into ${e.name} inside ${shadow.file} instead of a drop-in Environment= line`,
      });
    }
  }
  for (const [k, v] of fromFiles) env.set(k, v.value);
  if (unit.execStart === undefined) {
    notes.push({ status: "warn", message: `${origin} has no ExecStart=; using every variable's words as flags` });
    return { argv: [...env.values()].flatMap(splitWords), origin, notes };
  }
  return { argv: expandExecStart(unit.execStart, env), origin, notes };
}

function fromYaml(doc: Record<string, unknown>, origin: string): KubeletFlags | undefined {
  const kind = doc["kind"];
  if (kind === "NodeConfig") {
    const flags = ((doc["spec"] as Record<string, unknown> | undefined)?.["kubelet"] as Record<string, unknown> | undefined)?.["flags"];
    return { argv: Array.isArray(flags) ? flags.map(String) : [], origin, notes: [] };
  }
  if (kind === "JoinConfiguration" || kind === "InitConfiguration") {
    const extra = (doc["nodeRegistration"] as Record<string, unknown> | undefined)?.["kubeletExtraArgs"];
    const argv = Array.isArray(extra)
      ? extra.map((a) => `--${(a as { name: string }).name}=${(a as { value: string }).value}`)
      : Object.entries((extra ?? {}) as Record<string, unknown>).map(([k, v]) => `--${k}=${String(v)}`);
    return { argv, origin, notes: [] };
  }
  if ("image-credential-provider-config" in doc || "image-credential-provider-bin-dir" in doc || "kubelet-arg" in doc) {
    // k3s / RKE2 config.yaml: top-level keys, plus kubelet-arg entries "key=value".
    const argv: string[] = [];
    for (const k of ["image-credential-provider-bin-dir", "image-credential-provider-config"]) {
      if (typeof doc[k] === "string") argv.push(`--${k}=${doc[k] as string}`);
    }
    const ka = doc["kubelet-arg"];
    for (const a of Array.isArray(ka) ? ka : ka === undefined ? [] : [ka]) argv.push(`--${String(a).replace(/^-+/, "")}`);
    return { argv, origin, notes: [] };
  }
  return undefined;
}

/**
 * Interpret a flag source file. Recognised, in order: a systemd unit or `systemctl cat kubelet`
 * output (Environment=, EnvironmentFile=, ExecStart= with variable expansion; files read through
 * `readText`), a NodeConfig / JoinConfiguration / k3s config YAML, an env file (KEY=VALUE lines:
 * every value's words), else raw text (a command line, NUL or space separated).
 */
export async function readKubeletFlagsFile(text: string, origin: string, readText: ReadText): Promise<KubeletFlags> {
  if (/^\s*(\[Service\]|ExecStart=|Environment=|EnvironmentFile=)/m.test(text)) return fromUnit(text, origin, readText);
  if (/^\s*(kind:|apiVersion:|image-credential-provider|kubelet-arg)/m.test(text)) {
    try {
      const doc = parseYaml(text) as unknown;
      if (doc && typeof doc === "object" && !Array.isArray(doc)) {
        const got = fromYaml(doc as Record<string, unknown>, origin);
        if (got) return got;
      }
    } catch {
      // not YAML after all: fall through to the plain forms
    }
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  if (lines.length > 0 && lines.every((l) => /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=/.test(l))) {
    return { argv: [...parseEnvFile(text).values()].flatMap(splitWords), origin, notes: [] };
  }
  return { argv: text.includes("\0") ? text.split("\0").filter((w) => w !== "") : splitWords(text), origin, notes: [] };
}
