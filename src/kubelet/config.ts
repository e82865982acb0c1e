// Read, strictly decode and validate a kubelet CredentialProviderConfig file or directory the way the kubelet does (plugin/config.go).
import { parseAllDocuments } from "yaml";
import { parseSchemelessUrl } from "./match.ts";
import { parseGoDuration } from "../core/go-duration.ts";

/** The file `apiVersion`s the kubelet registers for `CredentialProviderConfig` (v1 since 1.26). */
export const CONFIG_API_VERSIONS = ["kubelet.config.k8s.io/v1alpha1", "kubelet.config.k8s.io/v1beta1", "kubelet.config.k8s.io/v1"] as const;

/** The provider `apiVersion`s (the exec protocol) the kubelet accepts, sorted as Go's `sets.List` prints them. */
export const PROVIDER_API_VERSIONS = [
  "credentialprovider.kubelet.k8s.io/v1",
  "credentialprovider.kubelet.k8s.io/v1alpha1",
  "credentialprovider.kubelet.k8s.io/v1beta1",
] as const;

/** `tokenAttributes.cacheType` values (required since kubelet 1.34). */
export const TOKEN_CACHE_TYPES = ["ServiceAccount", "Token"] as const;

/** Kubelet's `ServiceAccountTokenAttributes`. */
export interface TokenAttributes {
  serviceAccountTokenAudience: string;
  cacheType: string;
  requireServiceAccount?: boolean;
  requiredServiceAccountAnnotationKeys: string[];
  optionalServiceAccountAnnotationKeys: string[];
}

/** One decoded `providers[]` entry, with the file it came from. */
export interface CredentialProvider {
  name: string;
  matchImages: string[];
  /** The duration string as written; undefined when absent or null. */
  defaultCacheDuration?: string;
  /** Parsed `defaultCacheDuration` in nanoseconds. */
  defaultCacheDurationNs?: bigint;
  apiVersion: string;
  args: string[];
  env: Array<{ name: string; value: string }>;
  tokenAttributes?: TokenAttributes;
  /** Path of the file that declared this provider. */
  file: string;
}

/** The merged configuration the kubelet would register. */
export interface CredentialProviderConfig {
  providers: CredentialProvider[];
}

/** Where a problem was found, in the kubelet's order: reading, decoding, merging, validating. */
export type ConfigIssueKind = "read" | "decode" | "strict" | "merge" | "required" | "invalid" | "duplicate" | "not-supported" | "forbidden";

/** One reason the kubelet would refuse the configuration (and therefore refuse to start). */
export interface ConfigIssue {
  kind: ConfigIssueKind;
  /** Field path as the kubelet prints it (`providers.matchImages`), when the issue is about a field. */
  field?: string;
  /** Index of the provider in the merged list, for validation issues. */
  provider?: number;
  file?: string;
  /** The kubelet's message, or our closest rendering of it. */
  message: string;
}

/** Result of {@link loadCredentialProviderConfig}: `config` is set once reading and decoding succeeded. */
export interface LoadedConfig {
  files: string[];
  config?: CredentialProviderConfig;
  issues: ConfigIssue[];
}

/** The subset of a file system the loader needs; `stat` and `readFile` reject on a missing path. */
export interface ConfigFs {
  stat(path: string): Promise<{ isDirectory(): boolean }>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<string>;
}

/** Kubelet behaviour that depends on its version and feature gates. */
export interface ConfigOptions {
  /** `KubeletServiceAccountTokenForCredentialProviders` (beta, on by default since 1.34). Default true. */
  serviceAccountTokenForCredentialProviders?: boolean;
  /** Directory mode for `--image-credential-provider-config` exists since 1.34. Default true. */
  allowDirectory?: boolean;
}

export class DecodeFailure extends Error {}

/** Strict JSON parse (Go encoding/json grammar) that records duplicate keys by path instead of silently keeping the last. */
export function parseStrictJson(text: string, duplicates: string[]): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new DecodeFailure(`json parse error: ${what} at offset ${i}`);
  };
  const str = (): string => {
    // eslint-disable-next-line no-control-regex -- JSON strings exclude raw control characters
    const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(text.slice(i));
    if (!m) return fail("invalid string");
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const value = (path: string): unknown => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected object key");
        const key = str();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        const child = path === "" ? key : `${path}.${key}`;
        const v = value(child);
        if (Object.prototype.hasOwnProperty.call(obj, key)) duplicates.push(child);
        obj[key] = v;
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(`${path}[${arr.length}]`));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    const lit = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/.exec(text.slice(i));
    if (!lit) return fail("invalid character");
    i += lit[0].length;
    return JSON.parse(lit[0]);
  };
  const v = value("");
  ws();
  if (i !== text.length) fail("invalid character after top-level value");
  return v;
}

/** Decode one document to plain data: JSON when it starts with "{" (the kubelet's JSON serializer), else YAML 1.1 like sigs.k8s.io/yaml. */
function decodeDocument(text: string, duplicates: string[]): unknown {
  if (/^\s*\{/.test(text)) return parseStrictJson(text, duplicates);
  const docs = parseAllDocuments(text, {
    version: "1.1",
    // go-yaml v2 has no sexagesimal numbers and leaves timestamps as strings in untyped maps.
    customTags: (tags) => tags.filter((t) => typeof t === "string" || (t.format !== "TIME" && t.tag !== "tag:yaml.org,2002:timestamp")),
  });
  if (!Array.isArray(docs)) throw new DecodeFailure("yaml: empty input");
  const first = docs[0];
  if (!first) return null;
  const dup = first.errors.find((e) => e.code === "DUPLICATE_KEY");
  if (dup) duplicates.push(`(${dup.message.split("\n")[0]})`);
  const fatal = first.errors.find((e) => e.code !== "DUPLICATE_KEY");
  if (fatal) throw new DecodeFailure(`error converting YAML to JSON: ${fatal.message.split("\n")[0]}`);
  return first.toJS({ maxAliasCount: 100 });
}

type FieldType = "string" | "bool" | "stringList" | "duration" | { list: Schema } | { object: Schema };
type Schema = Record<string, FieldType>;

const TOKEN_ATTRIBUTES_SCHEMA: Schema = {
  serviceAccountTokenAudience: "string",
  cacheType: "string",
  requireServiceAccount: "bool",
  requiredServiceAccountAnnotationKeys: "stringList",
  optionalServiceAccountAnnotationKeys: "stringList",
};

function providerSchema(fileVersion: string): Schema {
  const base: Schema = {
    name: "string",
    matchImages: "stringList",
    defaultCacheDuration: "duration",
    apiVersion: "string",
    args: "stringList",
    env: { list: { name: "string", value: "string" } },
  };
  // tokenAttributes exists only in the v1 file type; v1alpha1/v1beta1 decode it as an unknown field.
  return fileVersion === "v1" ? { ...base, tokenAttributes: { object: TOKEN_ATTRIBUTES_SCHEMA } } : base;
}

const goType = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "boolean" ? "bool" : typeof v === "number" ? "number" : typeof v;

/** Check `value` against `schema` like encoding/json into Go structs: type errors are fatal, unknown fields are strict errors. */
function checkObject(value: Record<string, unknown>, schema: Schema, path: string, unknown: string[]): void {
  for (const [key, v] of Object.entries(value)) {
    const child = path === "" ? key : `${path}.${key}`;
    const type = schema[key];
    if (type === undefined) {
      unknown.push(child);
      continue;
    }
    if (v === null) continue; // Go leaves the zero value for null
    const typeError = (want: string): never => {
      throw new DecodeFailure(`json: cannot unmarshal ${goType(v)} into Go struct field ${child} of type ${want}`);
    };
    if (type === "string" || type === "duration") {
      if (typeof v !== "string") typeError("string");
      if (type === "duration") {
        try {
          parseGoDuration(v as string);
        } catch (e) {
          throw new DecodeFailure((e as Error).message);
        }
      }
    } else if (type === "bool") {
      if (typeof v !== "boolean") typeError("bool");
    } else if (type === "stringList") {
      if (!Array.isArray(v)) typeError("[]string");
      (v as unknown[]).forEach((item) => {
        if (typeof item !== "string") typeError("string");
      });
    } else if ("list" in type) {
      if (!Array.isArray(v)) typeError("[]object");
      (v as unknown[]).forEach((item, i) => {
        if (item === null) return;
        if (typeof item !== "object" || Array.isArray(item)) typeError("object");
        checkObject(item as Record<string, unknown>, type.list, `${child}[${i}]`, unknown);
      });
    } else {
      if (typeof v !== "object" || Array.isArray(v)) typeError("object");
      checkObject(v as Record<string, unknown>, type.object, child, unknown);
    }
  }
}

const strList = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);

/**
 * Decode one CredentialProviderConfig document as the kubelet's strict universal decoder does:
 * JSON or YAML, apiVersion/kind checked, unknown and duplicate fields fatal, Go types enforced
 * (an unquoted `defaultCacheDuration: 0` is a number, hence an error).
 * @returns the providers, or the first issue (the kubelet stops at the first decode error).
 */
export function decodeCredentialProviderConfig(text: string, file: string): { providers: CredentialProvider[] } | { issue: ConfigIssue } {
  const duplicates: string[] = [];
  const unknown: string[] = [];
  const issue = (kind: ConfigIssueKind, message: string) => ({ issue: { kind, file, message: `error decoding config ${JSON.stringify(file)}: ${message}` } });
  let data: unknown;
  try {
    data = decodeDocument(text, duplicates);
  } catch (e) {
    return issue("decode", e instanceof DecodeFailure ? e.message : String(e));
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) return issue("decode", "Object 'Kind' is missing");
  const obj = data as Record<string, unknown>;
  const kind = typeof obj["kind"] === "string" ? obj["kind"] : "";
  const apiVersion = typeof obj["apiVersion"] === "string" ? obj["apiVersion"] : "";
  if (kind === "") return issue("decode", "Object 'Kind' is missing");
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
  if (group !== "kubelet.config.k8s.io") {
    return issue("decode", `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme`);
  }
  if (!(CONFIG_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    return issue("decode", `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme`);
  }
  if (kind !== "CredentialProviderConfig") return issue("decode", `failed to decode ${JSON.stringify(kind)} (wrong Kind)`);
  try {
    checkObject(obj, { apiVersion: "string", kind: "string", providers: { list: providerSchema(version!) } }, "", unknown);
  } catch (e) {
    return issue("decode", e instanceof DecodeFailure ? e.message : String(e));
  }
  const strict = [...unknown.map((f) => `unknown field ${JSON.stringify(f)}`), ...duplicates.map((f) => `duplicate field ${JSON.stringify(f)}`)];
  if (strict.length > 0) return issue("strict", `strict decoding error: ${strict.join(", ")}`);
  const providers = (Array.isArray(obj["providers"]) ? (obj["providers"] as unknown[]) : []).map((raw): CredentialProvider => {
    const p = (raw ?? {}) as Record<string, unknown>;
    const dcd = typeof p["defaultCacheDuration"] === "string" ? (p["defaultCacheDuration"] as string) : undefined;
    const ta = p["tokenAttributes"] as Record<string, unknown> | null | undefined;
    return {
      name: typeof p["name"] === "string" ? p["name"] : "",
      matchImages: strList(p["matchImages"]),
      defaultCacheDuration: dcd,
      defaultCacheDurationNs: dcd === undefined ? undefined : parseGoDuration(dcd),
      apiVersion: typeof p["apiVersion"] === "string" ? p["apiVersion"] : "",
      args: strList(p["args"]),
      env: (Array.isArray(p["env"]) ? (p["env"] as Array<Record<string, unknown> | null>) : []).map((e) => ({
        name: typeof e?.["name"] === "string" ? e["name"] : "",
        value: typeof e?.["value"] === "string" ? e["value"] : "",
      })),
      tokenAttributes:
        ta === null || ta === undefined
          ? undefined
          : {
              serviceAccountTokenAudience: typeof ta["serviceAccountTokenAudience"] === "string" ? ta["serviceAccountTokenAudience"] : "",
              cacheType: typeof ta["cacheType"] === "string" ? ta["cacheType"] : "",
              requireServiceAccount: typeof ta["requireServiceAccount"] === "boolean" ? ta["requireServiceAccount"] : undefined,
              requiredServiceAccountAnnotationKeys: strList(ta["requiredServiceAccountAnnotationKeys"]),
              optionalServiceAccountAnnotationKeys: strList(ta["optionalServiceAccountAnnotationKeys"]),
            },
      file,
    };
  });
  return { providers };
}

const QNAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const QNAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** apimachinery `validation.IsQualifiedName`: the rule for annotation keys (checked lower-cased by the kubelet). */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split("/");
  const errs: string[] = [];
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push("prefix part must be non-empty");
    else if (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) {
      errs.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
    }
  } else {
    return [`a qualified name ${QNAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push("name part must be non-empty");
  else if (name.length > 63) errs.push("name part must be no more than 63 characters");
  if (!QNAME.test(name)) errs.push(`name part ${QNAME_MSG}`);
  return errs;
}

/**
 * The kubelet's `validateCredentialProviderConfig`, with its field paths and messages
 * (`field.ErrorList` rendering: "providers.name: Invalid value: \"a/b\": provider name cannot contain '/'").
 * @returns every issue (the kubelet aggregates them all into one start-up error).
 */
export function validateCredentialProviderConfig(config: CredentialProviderConfig, options: ConfigOptions = {}): ConfigIssue[] {
  const saGate = options.serviceAccountTokenForCredentialProviders ?? true;
  const out: ConfigIssue[] = [];
  const add = (kind: ConfigIssueKind, field: string, provider: number | undefined, file: string | undefined, message: string) =>
    out.push({ kind, field, provider, file, message: `${field}: ${message}` });
  if (config.providers.length === 0) add("required", "providers", undefined, undefined, "Required value: at least 1 item in plugins is required");
  const seen = new Set<string>();
  config.providers.forEach((p, i) => {
    const f = (kind: ConfigIssueKind, field: string, message: string) => add(kind, `providers.${field}`, i, p.file, message);
    const q = JSON.stringify;
    if (p.name.includes("/")) f("invalid", "name", `Invalid value: ${q(p.name)}: provider name cannot contain '/'`);
    if (p.name.includes(" ")) f("invalid", "name", `Invalid value: ${q(p.name)}: provider name cannot contain spaces`);
    if (p.name === ".") f("invalid", "name", `Invalid value: ${q(p.name)}: provider name cannot be '.'`);
    if (p.name === "..") f("invalid", "name", `Invalid value: ${q(p.name)}: provider name cannot be '..'`);
    if (seen.has(p.name)) f("duplicate", "name", `Duplicate value: ${q(p.name)}`);
    seen.add(p.name);
    if (p.apiVersion === "") f("required", "apiVersion", "Required value");
    else if (!(PROVIDER_API_VERSIONS as readonly string[]).includes(p.apiVersion)) {
      f("not-supported", "apiVersion", `Unsupported value: ${q(p.apiVersion)}: supported values: ${PROVIDER_API_VERSIONS.map((v) => q(v)).join(", ")}`);
    }
    if (p.matchImages.length === 0) f("required", "matchImages", "Required value: at least 1 item in matchImages is required");
    for (const m of p.matchImages) {
      try {
        parseSchemelessUrl(m);
      } catch (e) {
        f("invalid", "matchImages", `Invalid value: ${q(m)}: match image is invalid: parse ${q(`https://${m}`)}: ${(e as Error).message}`);
      }
    }
    if (p.defaultCacheDuration === undefined) f("required", "defaultCacheDuration", "Required value");
    if (p.defaultCacheDurationNs !== undefined && p.defaultCacheDurationNs < 0n) {
      f("invalid", "defaultCacheDuration", `Invalid value: ${q(p.defaultCacheDuration)}: defaultCacheDuration must be greater than or equal to 0`);
    }
    const ta = p.tokenAttributes;
    if (ta) {
      const t = "tokenAttributes";
      if (!saGate) f("forbidden", t, "Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled");
      if (ta.serviceAccountTokenAudience === "") f("required", `${t}.serviceAccountTokenAudience`, "Required value");
      if (ta.requireServiceAccount === undefined) f("required", `${t}.requireServiceAccount`, "Required value");
      if (p.apiVersion !== "credentialprovider.kubelet.k8s.io/v1") {
        f("forbidden", t, "Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version");
      }
      if (ta.requireServiceAccount === false && ta.requiredServiceAccountAnnotationKeys.length > 0) {
        f("forbidden", `${t}.requiredServiceAccountAnnotationKeys`, "Forbidden: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set");
      }
      for (const listName of ["requiredServiceAccountAnnotationKeys", "optionalServiceAccountAnnotationKeys"] as const) {
        const keys = new Set<string>();
        for (const k of ta[listName]) {
          for (const msg of qualifiedNameErrors(k.toLowerCase())) f("invalid", `${t}.${listName}`, `Invalid value: ${q(k)}: ${msg}`);
          if (keys.has(k)) f("duplicate", `${t}.${listName}`, `Duplicate value: ${q(k)}`);
          keys.add(k);
        }
      }
      const both = [...new Set(ta.requiredServiceAccountAnnotationKeys)].filter((k) => ta.optionalServiceAccountAnnotationKeys.includes(k)).sort();
      if (both.length > 0) f("invalid", t, `Invalid value: ${q(both)}: annotation keys cannot be both required and optional`);
      if (ta.cacheType === "") {
        f("required", `${t}.cacheType`, `Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ${TOKEN_CACHE_TYPES.join(", ")}`);
      } else if (!(TOKEN_CACHE_TYPES as readonly string[]).includes(ta.cacheType)) {
        f("not-supported", `${t}.cacheType`, `Unsupported value: ${q(ta.cacheType)}: supported values: ${TOKEN_CACHE_TYPES.map((v) => q(v)).join(", ")}`);
      }
    }
  });
  return out;
}

const CONFIG_EXTENSIONS = [".json", ".yaml", ".yml"];

/** Go's `filepath.Ext`. */
function fileExt(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot === -1 ? "" : name.slice(dot);
}

/**
 * The kubelet's `readCredentialProviderConfig` followed by `validateCredentialProviderConfig`:
 * a file of any extension, or (1.34+) a directory whose `*.json|*.yaml|*.yml` entries are decoded
 * in lexical path order and merged; a provider name seen twice anywhere is an error.
 * Never throws for I/O: problems come back as issues.
 */
export async function loadCredentialProviderConfig(path: string, fs: ConfigFs, options: ConfigOptions = {}): Promise<LoadedConfig> {
  const files: string[] = [];
  if (path === "") return { files, issues: [{ kind: "read", message: "credential provider config path is empty" }] };
  let isDir: boolean;
  try {
    isDir = (await fs.stat(path)).isDirectory();
  } catch (e) {
    return { files, issues: [{ kind: "read", file: path, message: `unable to access path ${JSON.stringify(path)}: ${(e as Error).message}` }] };
  }
  if (isDir) {
    if (options.allowDirectory === false) {
      return { files, issues: [{ kind: "read", file: path, message: `${path} is a directory; config directories need kubelet 1.34 or newer` }] };
    }
    let names: string[];
    try {
      names = await fs.readdir(path);
    } catch (e) {
      return { files, issues: [{ kind: "read", file: path, message: `unable to read directory ${JSON.stringify(path)}: ${(e as Error).message}` }] };
    }
    for (const name of names) {
      if (!CONFIG_EXTENSIONS.includes(fileExt(name))) continue;
      const full = `${path.replace(/\/+$/, "")}/${name}`;
      try {
        if ((await fs.stat(full)).isDirectory()) continue;
      } catch {
        continue;
      }
      files.push(full);
    }
    files.sort();
    if (files.length === 0) return { files, issues: [{ kind: "read", file: path, message: `no configuration files found in directory ${JSON.stringify(path)}` }] };
  } else {
    files.push(path);
  }
  const providers: CredentialProvider[] = [];
  const names = new Set<string>();
  for (const file of files) {
    let text: string;
    try {
      text = await fs.readFile(file);
    } catch (e) {
      return { files, issues: [{ kind: "read", file, message: `unable to read file ${JSON.stringify(file)}: ${(e as Error).message}` }] };
    }
    const decoded = decodeCredentialProviderConfig(text, file);
    if ("issue" in decoded) return { files, issues: [decoded.issue] };
    for (const p of decoded.providers) {
      if (names.has(p.name)) {
        return { files, issues: [{ kind: "merge", file, message: `duplicate provider name ${JSON.stringify(p.name)} found in configuration file(s)` }] };
      }
      names.add(p.name);
      providers.push(p);
    }
  }
  const config = { providers };
  return { files, config, issues: validateCredentialProviderConfig(config, options) };
}
