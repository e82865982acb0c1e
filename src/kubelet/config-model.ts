// The kubelet CredentialProviderConfig model: accepted apiVersions, the decoded shapes and the issue type (no logic).

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
