// Roles Anywhere ARNs → the CreateSession endpoint (partition, region, FIPS, AWS_ENDPOINT_URL_ROLESANYWHERE).

import { ConfigError } from "../../core/errors.ts";
import { PARTITIONS, type Partition } from "../../core/partitions.ts";
import type { RolesAnywhereEndpoint, RolesAnywhereOptions } from "./types.ts";

/** Regions with a listed `rolesanywhere-fips` endpoint (helper `rolesanywhere/internal/endpoints/endpoints.go`). */
const FIPS_REGIONS = new Set(["us-east-1", "us-east-2", "us-west-1", "us-west-2", "us-gov-east-1", "us-gov-west-1"]);

const TRUST_ANCHOR_ARN = /^arn:([a-z0-9-]+):rolesanywhere:([a-z0-9-]+):(\d{12}):trust-anchor\/([A-Za-z0-9-]+)$/;
const PROFILE_ARN = /^arn:([a-z0-9-]+):rolesanywhere:([a-z0-9-]+):(\d{12}):profile\/([A-Za-z0-9-]+)$/;
/** IAM role path `/…/` of printable ASCII, then a name of 1–64 `[\w+=,.@-]` (IAM API reference). */
const ROLE_ARN = /^arn:([a-z0-9-]+):iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;

interface ParsedArn {
  partition: string;
  region: string;
  account: string;
}

function parseArn(value: string, field: string, pattern: RegExp, shape: string): ParsedArn {
  const m = pattern.exec(value ?? "");
  if (!m) throw new ConfigError("RA_ARN_INVALID", `${field} is not a valid ARN; expected ${shape}`);
  if (pattern === ROLE_ARN) return { partition: m[1]!, region: "", account: m[2]! };
  return { partition: m[1]!, region: m[2]!, account: m[3]! };
}

/**
 * Validate the three ARNs and derive the endpoint. The trust anchor's partition and region rule:
 * all three partitions must agree, the profile's region must equal the trust anchor's, and the
 * region must belong to the partition. Throws ConfigError (`RA_ARN_INVALID`,
 * `RA_ARN_PARTITION_MISMATCH`, `RA_ARN_REGION_MISMATCH`, `RA_FIPS_UNSUPPORTED`, `RA_ENDPOINT_INVALID`).
 */
export function resolveRolesAnywhereEndpoint(
  options: Pick<RolesAnywhereOptions, "trustAnchorArn" | "profileArn" | "roleArn" | "useFips" | "endpointUrl">,
): RolesAnywhereEndpoint {
  const ta = parseArn(
    options.trustAnchorArn,
    "trustAnchorArn",
    TRUST_ANCHOR_ARN,
    "arn:<partition>:rolesanywhere:<region>:<12-digit account>:trust-anchor/<id>",
  );
  const profile = parseArn(options.profileArn, "profileArn", PROFILE_ARN, "arn:<partition>:rolesanywhere:<region>:<12-digit account>:profile/<id>");
  const role = parseArn(options.roleArn, "roleArn", ROLE_ARN, "arn:<partition>:iam::<12-digit account>:role/<path/name>");
  if (profile.partition !== ta.partition || role.partition !== ta.partition) {
    throw new ConfigError(
      "RA_ARN_PARTITION_MISMATCH",
      `trustAnchorArn, profileArn and roleArn must be in one partition (got ${ta.partition}, ${profile.partition}, ${role.partition})`,
    );
  }
  const partition = Object.hasOwn(PARTITIONS, ta.partition) ? PARTITIONS[ta.partition as Partition] : undefined;
  if (!partition) throw new ConfigError("RA_ARN_PARTITION_MISMATCH", `trustAnchorArn has unknown partition ${ta.partition}`);
  if (!partition.regions.test(ta.region)) {
    throw new ConfigError("RA_ARN_PARTITION_MISMATCH", `trustAnchorArn region ${ta.region} is not in partition ${ta.partition}`);
  }
  if (profile.region !== ta.region) {
    throw new ConfigError("RA_ARN_REGION_MISMATCH", `profileArn region ${profile.region} differs from trustAnchorArn region ${ta.region}`);
  }
  const region = ta.region;

  if (options.endpointUrl !== undefined && options.endpointUrl !== "") {
    let url: URL;
    try {
      url = new URL(options.endpointUrl);
    } catch (cause) {
      throw new ConfigError("RA_ENDPOINT_INVALID", "the Roles Anywhere endpoint override is not a URL", { cause });
    }
    // The path is always /sessions (the helper canonicalises it so); a prefix would break the signature.
    if (
      (url.protocol !== "https:" && url.protocol !== "http:") ||
      url.username ||
      url.password ||
      (url.pathname !== "/" && url.pathname !== "") ||
      url.search ||
      url.hash
    ) {
      throw new ConfigError("RA_ENDPOINT_INVALID", "the Roles Anywhere endpoint override must be http(s)://host[:port] with no path, query or credentials");
    }
    return { scheme: url.protocol === "http:" ? "http" : "https", host: url.host, region, partition: ta.partition, fips: false };
  }

  const explicitFips = options.useFips;
  const wantFips = explicitFips ?? ta.partition === "aws-us-gov";
  const fips = wantFips && FIPS_REGIONS.has(region);
  if (explicitFips === true && !fips) {
    throw new ConfigError("RA_FIPS_UNSUPPORTED", `Roles Anywhere has no FIPS endpoint in ${region}`);
  }
  const host = `${fips ? "rolesanywhere-fips" : "rolesanywhere"}.${region}.${partition.dnsSuffix}`;
  return { scheme: "https", host, region, partition: ta.partition, fips };
}
