// The executable's main script (build.mjs makes it the SEA's `main`): runs the start-up half, embedded as the asset START_ASSET,
// through vm.Script with the V8 code cache made for it at build time after a cold and a warm run (START_CACHE_ASSET; absent on
// Windows and in --no-code-cache builds). Node's own SEA code cache would be made before anything ran: top-level code only.
// Kept tiny: it loads no built-in beyond node:sea and node:vm.

import { START_ASSET, START_CACHE_ASSET, compileStart, runStart } from "./wrapper.ts";

const { getAsset } = require("node:sea") as typeof import("node:sea");
const vm = require("node:vm") as typeof import("node:vm");

let cachedData: Buffer | undefined;
try {
  cachedData = Buffer.from(getAsset(START_CACHE_ASSET) as ArrayBuffer);
} catch {
  cachedData = undefined; // built without it (Windows, --no-code-cache)
}
// The file name Node gives a SEA's main script (the executable), so stack traces read as before.
const { script, codeCache } = compileStart(vm, getAsset(START_ASSET, "utf8") as string, __filename, cachedData);
// require.main is the module object Node made for this main script; the start-up half gets it, its require and its paths.
runStart(script, require.main ?? { exports: {} }, require, __filename, __dirname, codeCache);
