// The --help texts, built from the flag tables of core/config.ts (FLAGS, DOCTOR_OPTIONS) so there is
// one source of truth. Lazy half: a plugin run never compiles these strings.

import { DOCTOR_OPTIONS, FLAGS, envName, type HelpTopic } from "../core/config.ts";

/** Usage lines of each subcommand; `--help` prints them with the flags that apply. */
export const USAGE: Record<HelpTopic | "plugin", string> = {
  plugin: "ecr-credential-provider [get-credentials] [FLAGS]   kubelet mode: a CredentialProviderRequest on stdin, the response on stdout",
  check:
    "ecr-credential-provider check IMAGE [FLAGS]         the whole flow for IMAGE: where the answer came from (cache or AWS, which credentials), never the password; --no-cache forces a live call",
  doctor: `ecr-credential-provider doctor ${Object.entries(DOCTOR_OPTIONS)
    .map(([n, o]) => `[--${n}${o.value ? ` ${o.value}` : ""}]`)
    .join(" ")}`,
  cache: "ecr-credential-provider cache list [--output=text|json] [--cache-dir DIR]\n  ecr-credential-provider cache clear [REGISTRY|REGION] [--cache-dir DIR]",
};

/** Flags that matter to each subcommand (all of FLAGS for kubelet mode and check). */
const TOPIC_FLAGS: Record<HelpTopic, readonly string[] | "all"> = {
  check: "all",
  doctor: [],
  cache: ["output", "cache-dir", "registry-alias", "log-level", "log-format"],
};

function flagLines(names: readonly string[]): string[] {
  const lines: string[] = [];
  for (const name of names) {
    const spec = FLAGS[name]!;
    const arg = spec.kind === "bool" ? "" : spec.kind === "list" ? " VALUE..." : " VALUE";
    lines.push(`  --${name}${arg}`.padEnd(52) + ` ${envName(name)}`);
    lines.push(`      ${spec.help}`);
  }
  return lines;
}

function doctorLines(): string[] {
  return Object.entries(DOCTOR_OPTIONS).flatMap(([n, o]) => [`  --${n}${o.value ? ` ${o.value}` : ""}`, `      ${o.help}`]);
}

/** The `--help` text: everything, or one subcommand's usage (`check --help`). Built from FLAGS and DOCTOR_OPTIONS only. */
export function helpText(version: string, topic?: HelpTopic): string {
  if (topic) {
    const names = TOPIC_FLAGS[topic] === "all" ? Object.keys(FLAGS) : (TOPIC_FLAGS[topic] as readonly string[]);
    const lines = ["Usage:", `  ${USAGE[topic]}`, ""];
    if (topic === "doctor")
      lines.push(
        "Options:",
        ...doctorLines(),
        "",
        "Exit: 0 nothing failed (warnings allowed), 6 a check failed, 3 bad usage (unknown option), 1 internal error.",
      );
    if (topic === "cache")
      lines.push(
        "  list: one line per cached token (scope, identity, obtained, expires, fresh | stale-usable | expired); never a password",
        "  clear: every entry, or those serving REGISTRY or REGION; each under its lock",
        "",
      );
    if (names.length > 0) lines.push("Flags (each also an environment variable; a flag wins over its variable):", ...flagLines(names));
    return lines.join("\n") + "\n";
  }
  const lines = [
    `ecr-credential-provider ${version}: kubelet image credential provider for Amazon ECR`,
    "",
    "Usage:",
    `  ${USAGE.plugin}`,
    `  ${USAGE.check}`,
    `  ${USAGE.doctor}`,
    `  ${USAGE.cache}`,
    "  ecr-credential-provider -v | --version | -h | --help | check --help | doctor --help | cache --help",
    "",
    "Flags (each also an environment variable; a flag wins over its variable):",
    ...flagLines(Object.keys(FLAGS)),
    "",
    "doctor options:",
    ...doctorLines(),
    "",
    "Exit codes: 0 ok, 1 internal error, 2 bad input (request or non-ECR image, a terminal on stdin),",
    "            3 configuration (unknown option, bad value), 4 credentials, 5 upstream failure or timeout.",
  ];
  return lines.join("\n") + "\n";
}
