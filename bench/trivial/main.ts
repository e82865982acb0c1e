// Trivial SEA for benchmarks: the start-up floor of a Node single executable (see docs/build-and-release.md).
// Reads all of stdin, then prints a fixed CredentialProviderResponse. Built by build.mjs --with-trivial.
import { fixedResponse } from "./response.ts";
const RESPONSE = fixedResponse("trivial");

const chunks: Buffer[] = [];
process.stdin.on("data", (c: Buffer) => chunks.push(c));
process.stdin.on("end", () => {
  process.stdout.write(`${RESPONSE}\n`);
});
