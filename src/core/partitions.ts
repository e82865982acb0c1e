// The AWS partitions: one table for region patterns, the API DNS suffix and the ECR registry host suffixes.

export type Partition = "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b" | "aws-iso-e" | "aws-iso-f" | "aws-eusc";

export interface PartitionInfo {
  /** Regions of the partition (helper `internal/endpoints/awsrulesfn/partitions.go`; roles-anywhere spec §1.2). */
  regions: RegExp;
  /** DNS suffix of the partition's API endpoints (`rolesanywhere.<region>.<dnsSuffix>`). */
  dnsSuffix: string;
  /**
   * DNS suffixes AWS owns for this partition's ECR registry hosts. Trusting only these is the
   * security property of the host policy: no accepted host can belong to anybody but AWS.
   * GovCloud has none of its own: it shares the commercial suffixes and is told apart by region.
   */
  ecrHostSuffixes: readonly string[];
}

/** `aws-eusc` is the European Sovereign Cloud. */
export const PARTITIONS: Readonly<Record<Partition, PartitionInfo>> = {
  aws: { regions: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, dnsSuffix: "amazonaws.com", ecrHostSuffixes: ["amazonaws.com", "on.aws"] },
  "aws-cn": { regions: /^cn-\w+-\d+$/, dnsSuffix: "amazonaws.com.cn", ecrHostSuffixes: ["amazonaws.com.cn", "on.amazonwebservices.com.cn"] },
  "aws-us-gov": { regions: /^us-gov-\w+-\d+$/, dnsSuffix: "amazonaws.com", ecrHostSuffixes: [] },
  "aws-iso": { regions: /^us-iso-\w+-\d+$/, dnsSuffix: "c2s.ic.gov", ecrHostSuffixes: ["c2s.ic.gov"] },
  "aws-iso-b": { regions: /^us-isob-\w+-\d+$/, dnsSuffix: "sc2s.sgov.gov", ecrHostSuffixes: ["sc2s.sgov.gov"] },
  "aws-iso-e": { regions: /^eu-isoe-\w+-\d+$/, dnsSuffix: "cloud.adc-e.uk", ecrHostSuffixes: ["cloud.adc-e.uk"] },
  "aws-iso-f": { regions: /^us-isof-\w+-\d+$/, dnsSuffix: "csp.hci.ic.gov", ecrHostSuffixes: ["csp.hci.ic.gov"] },
  "aws-eusc": { regions: /^eusc-[a-z]+-\w+-\d+$/, dnsSuffix: "amazonaws.eu", ecrHostSuffixes: ["amazonaws.eu"] },
};

/** ECR registry host suffix → the partition that owns it (GovCloud: see partitionOfEcrHost). */
export const ECR_HOST_SUFFIXES: ReadonlyMap<string, Partition> = new Map(
  (Object.entries(PARTITIONS) as [Partition, PartitionInfo][]).flatMap(([p, info]) => info.ecrHostSuffixes.map((s) => [s, p] as const)),
);

/** The partition of a private ECR host with this suffix and region. GovCloud shares the commercial suffixes; the region tells them apart. */
export function partitionOfEcrHost(suffix: string, region: string): Partition | undefined {
  const p = ECR_HOST_SUFFIXES.get(suffix);
  if (p === "aws" && region.startsWith("us-gov-")) return "aws-us-gov";
  return p;
}
