// Which command runs: version, help, doctor, or a request (plugin mode and `check`).

import { helpText, type Config } from "../core/config.ts";
import { ConfigError, EXIT } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { answer, type AnswerContext } from "./answer.ts";

export interface RouteContext extends AnswerContext {
  version: string;
  runDoctor?: (args: readonly string[], ctx: { config: Config; log: Logger; writeStdout: (s: string) => void }) => Promise<number>;
}

/** Run the command the configuration names; returns its exit code, throws a PluginError on failure. */
export async function route(ctx: RouteContext): Promise<number> {
  const { config } = ctx;
  switch (config.command) {
    case "version":
      ctx.writeStdout(`ecr-credential-provider ${ctx.version}\n`);
      return EXIT.ok;
    case "help":
      ctx.writeStdout(helpText(ctx.version));
      return EXIT.ok;
    case "doctor":
      if (!ctx.runDoctor) throw new ConfigError("no_doctor", "doctor is not available in this build");
      return ctx.runDoctor(config.commandArgs, { config, log: ctx.log, writeStdout: ctx.writeStdout });
    default:
      await answer(ctx);
      return EXIT.ok;
  }
}
