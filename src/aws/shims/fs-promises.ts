// Build-time stand-in (build.mjs, SDK_BUILTIN_SHIMS) for `node:fs/promises` as the AWS SDK imports it in the lazy half: the
// SDK's shared config file loader (`readFile`, for ~/.aws/config and credentials) and SSO token reader, and the container
// credential provider (`fs.readFile`, a default import), are evaluated on every cold run. Loading node:fs/promises costs
// ~3 ms of CPU there (it pulls in readline, file watchers and REPL history) to read a file or two, so the same readFile
// is built here on node:fs, which every run has loaded already. Roles Anywhere reads its certificate and key with it too.
// Only what the SDK uses is exported: if an SDK upgrade imports anything else from fs/promises, the build fails.

import { readFile as readFileCallback } from "node:fs";

type ReadFileOptions = Parameters<typeof import("node:fs/promises").readFile>[1];

/** node:fs/promises readFile for a path (what the SDK passes): same results, same errors (code, errno, syscall, path). */
export function readFile(path: string, options: "utf8" | { encoding: BufferEncoding; flag?: string }): Promise<string>;
export function readFile(path: string, options?: { encoding?: null; flag?: string } | null): Promise<Buffer>;
export function readFile(path: string, options?: ReadFileOptions): Promise<string | Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: NodeJS.ErrnoException | null, data: string | Buffer): void => (err ? reject(err) : resolve(data));
    // `as never`: the options are node:fs/promises readFile's, which node:fs readFile takes too (a signal included).
    readFileCallback(path, (options ?? null) as never, done);
  });
}

export default { readFile };
