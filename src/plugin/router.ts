// Which command runs: version, help, doctor, cache, or a request (plugin mode and `check`).

import type { Config, HelpTopic } from "../core/config.ts";
import { ConfigError, EXIT, InputError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { parseAliases, type AliasMap } from "../core/registry.ts";
import { answer, type AnswerContext } from "./answer.ts";

export interface RouteContext extends AnswerContext {
  stdinIsTTY?: boolean;
  helpText?: (topic?: HelpTopic) => Promise<string>;
  runCache?: (args: readonly string[], ctx: { config: Config; aliases: AliasMap; writeStdout: (s: string) => void }) => Promise<number>;
  runDoctor?: (args: readonly string[], ctx: { config: Config; log: Logger; writeStdout: (s: string) => void }) => Promise<number>;
}

/** Run the command the configuration names; returns its exit code, throws a PluginError on failure. */
export async function route(ctx: RouteContext): Promise<number> {
  const { config } = ctx;
  // Built only at debug level: a plugin run at the default level never pays for it.
  if (ctx.log.level === "debug" && config.command !== "version" && config.command !== "help") ctx.log.debug("settings", settingsFields(config));
  switch (config.command) {
    case "version":
      ctx.writeStdout(`ecr-credential-provider ${ctx.version}\n`);
      return EXIT.ok;
    case "help":
      // The help texts live in the lazy half (cli/help.ts): a plugin run never compiles them.
      if (!ctx.helpText) throw new ConfigError("no_help", "help is not available in this build");
      ctx.writeStdout(await ctx.helpText(config.helpTopic));
      return EXIT.ok;
    case "cache":
      if (!ctx.runCache) throw new ConfigError("no_cache_command", "cache is not available in this build");
      return ctx.runCache(config.commandArgs, { config, aliases: parseAliases(config.registryAliases), writeStdout: ctx.writeStdout });
    case "doctor":
      if (!ctx.runDoctor) throw new ConfigError("no_doctor", "doctor is not available in this build");
      return ctx.runDoctor(config.commandArgs, { config, log: ctx.log, writeStdout: ctx.writeStdout });
    default:
      if (config.command === "plugin" && ctx.stdinIsTTY) {
        throw new InputError(
          "stdin_is_terminal",
          "stdin is a terminal: kubelet mode reads a CredentialProviderRequest JSON object on stdin " +
            `(echo '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"IMAGE"}' | ecr-credential-provider); ` +
            "to try an image by hand run: ecr-credential-provider check IMAGE (see --help)",
        );
      }
      await answer(ctx);
      return EXIT.ok;
  }
}

/** The debug `settings` line: each setting's value and where it came from (flag, env, default); no secret is a setting. */
export function settingsFields(c: Config): Record<string, unknown> {
  const at = (name: string, value: unknown) => `${Array.isArray(value) ? value.join(",") || "none" : String(value)} (${c.sources[name] ?? "default"})`;
  const ra = c.rolesAnywhere;
  return {
    command: c.command,
    "log-level": at("log-level", c.logLevel),
    "log-format": at("log-format", c.logFormat),
    ...(c.command === "check" || c.command === "cache" ? { output: at("output", c.output) } : {}),
    timeout: at("timeout", `${c.timeoutMs}ms`),
    "cache-dir": at("cache-dir", c.cacheDir),
    "no-cache": at("no-cache", c.noCache),
    "registry-alias": at("registry-alias", [...c.registryAliases]),
    "roles-anywhere": ra
      ? `configured (${c.sources["roles-anywhere-certificate"]}); key passphrase ${ra.passphrase ? "from env" : ra.passphraseFile ? "from file" : "none"}`
      : "not configured",
    awsEnv: Object.keys(c.awsEnv).join(",") || "none",
    ...(c.ecrRoleArn ? { AWS_ECR_ROLE_ARN: c.ecrRoleArn } : {}),
  };
}
