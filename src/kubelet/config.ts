// Read, strictly decode and validate a kubelet CredentialProviderConfig file or directory the way the kubelet does (plugin/config.go).
import { parseAllDocuments } from "yaml";
import { parseGoDuration } from "../core/go-duration.ts";
import { DecodeFailure, parseStrictJson } from "./strict-json.ts";
import {
  CONFIG_API_VERSIONS,
  type ConfigFs,
  type ConfigIssue,
  type ConfigIssueKind,
  type ConfigOptions,
  type CredentialProvider,
  type LoadedConfig,
} from "./config-model.ts";
import { validateCredentialProviderConfig } from "./validate.ts";

export * from "./config-model.ts";
export { validateCredentialProviderConfig, qualifiedNameErrors } from "./validate.ts";

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
    if (files.length === 0)
      return { files, issues: [{ kind: "read", file: path, message: `no configuration files found in directory ${JSON.stringify(path)}` }] };
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
