// Image reference → registry → ECR classification (private / public / not ECR), per the host policy.

import { ConfigError, InputError } from "./errors.ts";
import { ECR_HOST_SUFFIXES, partitionOfEcrHost, type Partition } from "./partitions.ts";

export type { Partition } from "./partitions.ts";

/** Where an ECR token comes from: a private registry's region, or ECR Public. */
export interface EcrTarget {
  kind: "private" | "public";
  /** `aws` for ECR Public, which exists only in the aws partition. */
  partition: Partition;
  /** Region of the GetAuthorizationToken call; `us-east-1` for ECR Public. */
  region: string;
  /** 12-digit registry (account) id, private only; kept as a string for leading zeros. */
  account?: string;
  /** The registry host used `-fips`: call the FIPS API endpoint. */
  fips: boolean;
  /** The registry host is a dual-stack one (`dkr-ecr…`, `ecr-public.aws.com`): call the dual-stack API endpoint. */
  dualstack: boolean;
}

/** An image classified for the answer: the target and the `auth` key to answer with. */
export interface ClassifiedImage extends EcrTarget {
  /** The registry exactly as the image spelled it, port included: the kubelet matches keys case-sensitively. */
  authKey: string;
  /** Set when the registry was reached through an operator alias: the ECR registry it maps to. */
  aliasOf?: string;
}

/** ECR Public registry hosts; the token always comes from ECR Public in us-east-1 (its only token region). */
const PUBLIC_HOSTS: Record<string, { dualstack: boolean }> = {
  "public.ecr.aws": { dualstack: false },
  "ecr-public.aws.com": { dualstack: true },
};
const PUBLIC_REGION = "us-east-1";

/** Private registry hosts: `<account>.dkr.ecr[-fips].<region>.<suffix>` or dual-stack `dkr-ecr[-fips]`, suffix from the partition table. */
const PRIVATE_HOST = new RegExp(
  `^(\\d{12})\\.(dkr\\.ecr|dkr\\.ecr-fips|dkr-ecr|dkr-ecr-fips)\\.([a-z]+(?:-[a-z]+)*-\\d+)\\.(${[...ECR_HOST_SUFFIXES.keys()].map((x) => x.replace(/\./g, "\\.")).join("|")})$`,
);

/** `host[:port]` with an LDH host and a port 1–65535; anything else (userinfo, spaces, IPv6 brackets) is refused. */
const REGISTRY_SYNTAX = /^([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::(\d{1,5}))?$/;

/** Upper bound of a DNS name; longer strings are not hosts. */
const MAX_HOST_LENGTH = 253;

/**
 * The registry part of an image reference: everything before the first `/`, after dropping a
 * leading `https://` or `http://` (humans type them; the kubelet never sends one).
 */
export function registryOf(image: string): string {
  const rest = image.replace(/^https?:\/\//i, "");
  const slash = rest.indexOf("/");
  return slash === -1 ? rest : rest.slice(0, slash);
}

/** Split a `host[:port]` registry, or undefined when it is not one. */
export function parseRegistry(registry: string): { host: string; port?: string } | undefined {
  if (registry.length > MAX_HOST_LENGTH + 6) return undefined;
  const m = REGISTRY_SYNTAX.exec(registry);
  if (!m) return undefined;
  const host = m[1]!;
  const port = m[2];
  if (host.length > MAX_HOST_LENGTH) return undefined;
  if (port !== undefined) {
    const n = Number(port);
    if (n < 1 || n > 65535) return undefined;
  }
  return port === undefined ? { host } : { host, port };
}

/**
 * Classify a registry host (no port) as ECR private, ECR Public, or undefined (not ECR).
 * Classification is on the lower-cased host; DNS names are case-insensitive.
 */
export function classifyHost(host: string): EcrTarget | undefined {
  const h = host.toLowerCase();
  const pub = PUBLIC_HOSTS[h];
  if (pub) return { kind: "public", partition: "aws", region: PUBLIC_REGION, fips: false, dualstack: pub.dualstack };
  const m = PRIVATE_HOST.exec(h);
  if (!m) return undefined;
  const [, account, label, region, suffix] = m as unknown as [string, string, string, string, string];
  return {
    kind: "private",
    partition: partitionOfEcrHost(suffix, region)!,
    region,
    account,
    fips: label.endsWith("-fips"),
    dualstack: label.startsWith("dkr-ecr"),
  };
}

/** Operator aliases: a mirror / pull-through / CNAME registry that stands for an ECR registry. */
export type AliasMap = ReadonlyMap<string, string>;

/** Normalise an alias key for lookup: lower-cased host, port kept as written. */
function aliasKey(host: string, port?: string): string {
  return port === undefined ? host.toLowerCase() : `${host.toLowerCase()}:${port}`;
}

/**
 * Parse `HOST[:PORT]=ECR_REGISTRY` entries. The target must itself classify as ECR, so an
 * alias can never point a token at a foreign host. Throws ConfigError naming the bad entry.
 */
export function parseAliases(entries: readonly string[]): AliasMap {
  const out = new Map<string, string>();
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const from = eq === -1 ? "" : entry.slice(0, eq).trim();
    const to =
      eq === -1
        ? ""
        : entry
            .slice(eq + 1)
            .trim()
            .replace(/^https?:\/\//i, "")
            .replace(/\/+$/, "");
    const src = parseRegistry(from);
    const dst = parseRegistry(to);
    if (!src || !dst) {
      throw new ConfigError("bad_registry_alias", `registry alias "${entry}" is not HOST[:PORT]=ECR_REGISTRY`);
    }
    if (!classifyHost(dst.host)) {
      throw new ConfigError("bad_registry_alias", `registry alias "${entry}": target "${to}" is not an Amazon ECR registry host`);
    }
    out.set(aliasKey(src.host, src.port), dst.host);
  }
  return out;
}

/**
 * Classify the registry of an image for an answer. Aliases are consulted first; the answer is
 * keyed by the registry as the image spelled it. Throws InputError for anything that is not ECR,
 * before any AWS call.
 */
export function classifyImage(image: string, aliases: AliasMap = new Map()): ClassifiedImage {
  if (image.length === 0) throw new InputError("empty_image", "the request's image is empty");
  const registry = registryOf(image);
  const parsed = parseRegistry(registry);
  if (!parsed) {
    throw new InputError("not_ecr", `registry ${JSON.stringify(truncate(registry))} is not a valid host[:port]; refusing to fetch an ECR token for it`);
  }
  const alias = aliases.get(aliasKey(parsed.host, parsed.port));
  if (alias !== undefined) {
    const target = classifyHost(alias)!;
    return { ...target, authKey: registry, aliasOf: alias };
  }
  const target = classifyHost(parsed.host);
  if (!target) {
    throw new InputError(
      "not_ecr",
      `registry ${JSON.stringify(truncate(registry))} is not an Amazon ECR registry; no token is fetched for other hosts ` +
        `(map a mirror or pull-through host with --registry-alias HOST=ECR_REGISTRY)`,
    );
  }
  return { ...target, authKey: registry };
}

/** Keep hostile input from flooding the kubelet log. */
function truncate(s: string, max = 120): string {
  return s.length > max ? s.slice(0, max) + "…" : s;
}
