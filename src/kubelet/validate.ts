// Validate a decoded CredentialProviderConfig with the kubelet's rules, field paths and messages (validateCredentialProviderConfig).
import { parseSchemelessUrl } from "./match.ts";
import {
  PROVIDER_API_VERSIONS,
  TOKEN_CACHE_TYPES,
  type ConfigIssue,
  type ConfigIssueKind,
  type ConfigOptions,
  type CredentialProvider,
  type CredentialProviderConfig,
  type TokenAttributes,
} from "./config-model.ts";

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
      errs.push(
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
      );
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
    const f: Report = (kind, field, message) => add(kind, `providers.${field}`, i, p.file, message);
    validateProviderFields(p, seen, f);
    if (p.tokenAttributes) validateTokenAttributes(p, p.tokenAttributes, saGate, f);
  });
  return out;
}

/** Records one issue against the provider being validated (`field` relative to `providers.`). */
type Report = (kind: ConfigIssueKind, field: string, message: string) => void;

/** Name, apiVersion, matchImages and defaultCacheDuration of one provider; `seen` holds the names before it. */
function validateProviderFields(p: CredentialProvider, seen: Set<string>, f: Report): void {
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
}

/** The kubelet's `tokenAttributes` rules for one provider. */
function validateTokenAttributes(p: CredentialProvider, ta: TokenAttributes, saGate: boolean, f: Report): void {
  const q = JSON.stringify;
  const t = "tokenAttributes";
  if (!saGate) f("forbidden", t, "Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled");
  if (ta.serviceAccountTokenAudience === "") f("required", `${t}.serviceAccountTokenAudience`, "Required value");
  if (ta.requireServiceAccount === undefined) f("required", `${t}.requireServiceAccount`, "Required value");
  if (p.apiVersion !== "credentialprovider.kubelet.k8s.io/v1") {
    f("forbidden", t, "Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version");
  }
  if (ta.requireServiceAccount === false && ta.requiredServiceAccountAnnotationKeys.length > 0) {
    f(
      "forbidden",
      `${t}.requiredServiceAccountAnnotationKeys`,
      "Forbidden: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set",
    );
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
    f(
      "required",
      `${t}.cacheType`,
      `Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ${TOKEN_CACHE_TYPES.join(", ")}`,
    );
  } else if (!(TOKEN_CACHE_TYPES as readonly string[]).includes(ta.cacheType)) {
    f("not-supported", `${t}.cacheType`, `Unsupported value: ${q(ta.cacheType)}: supported values: ${TOKEN_CACHE_TYPES.map((v) => q(v)).join(", ")}`);
  }
}
