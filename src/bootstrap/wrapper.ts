// The lazy half's calling convention, shared by its loader (load-lazy.ts) and the build-time warm-up (warm-up.ts), so V8 accepts the code cache one made for the other.

import type * as vm from "node:vm";

/** What the lazy bundle exports (its entry is lazy.ts). */
export type LazyExports = typeof import("./lazy.ts");

/** The id under which the lazy bundle asks for our error classes (build.mjs marks core/errors.ts external as this). */
export const SHARED_ERRORS_ID = "ecp:errors";
/** Asset holding V8's code cache for the lazy half, made by the target's node at build time. */
export const LAZY_CACHE_ASSET = "lazy.cache";

/** The CommonJS wrapper around the lazy bundle's text. The code cache is only valid for exactly this source. */
export function wrapLazySource(code: string): string {
  return "(function (exports, require, module) {" + code + "\n})";
}

/**
 * Evaluate the compiled lazy bundle. It requires only Node built-ins (through `nodeRequire`) and
 * SHARED_ERRORS_ID, answered with `errors`, so both halves share one set of error classes.
 */
export function evaluateLazy(script: vm.Script, nodeRequire: (id: string) => unknown, errors: unknown): LazyExports {
  const fn = script.runInThisContext() as (exports: unknown, require: (id: string) => unknown, module: unknown) => void;
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  fn(mod.exports, (id) => (id === SHARED_ERRORS_ID ? errors : nodeRequire(id)), mod);
  return mod.exports as unknown as LazyExports;
}

/**
 * The start-up half (src/cli/main.ts's bundle) in the executable: the SEA's main script is only
 * sea-main.ts, which runs this asset through vm.Script with the code cache in START_CACHE_ASSET,
 * made at build time by warm-up-start.ts after a cold and a warm run (Node's own SEA code cache is
 * made before anything runs, so it holds only the top-level code). build.mjs uses the same names.
 */
export const START_ASSET = "start.cjs";
export const START_CACHE_ASSET = "start.cache";

/** What V8 did with the start-up half's code cache, handed to it by sea-main.ts; undefined when there was none. */
export type StartCodeCache = "accepted" | "rejected" | undefined;

/**
 * Node's CommonJS wrapper around the start-up bundle, plus one parameter through which the bundle
 * learns what became of its code cache (load-lazy.ts reads it). The code cache is only valid for exactly this source.
 */
const START_WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname, __ecpStartCodeCache) {";
export function wrapStartSource(code: string): string {
  return START_WRAPPER_HEAD + code + "\n})";
}

/** Compile the wrapped start-up bundle; its `import()` of built-ins goes to Node's default loader, as in the SEA main script. */
export function compileStart(
  vmModule: typeof vm,
  code: string,
  filename: string,
  cachedData: Buffer | undefined,
): { script: vm.Script; codeCache: StartCodeCache } {
  const script = new vmModule.Script(wrapStartSource(code), {
    filename,
    // Stack traces give the bundle's own columns on its first line, as Node's wrapper (compileFunction, no text added) did.
    columnOffset: -START_WRAPPER_HEAD.length,
    importModuleDynamically: vmModule.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    ...(cachedData ? { cachedData } : {}),
  });
  return { script, codeCache: cachedData === undefined ? undefined : script.cachedDataRejected === true ? "rejected" : "accepted" };
}

/** Run the compiled start-up bundle as Node runs a CommonJS main script: these exports, require, module, file and directory. */
export function runStart(
  script: vm.Script,
  mod: { exports: unknown },
  nodeRequire: NodeJS.Require,
  filename: string,
  dirname: string,
  codeCache: StartCodeCache,
): void {
  const fn = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: unknown, f: string, d: string, c: StartCodeCache) => void;
  fn(mod.exports, nodeRequire, mod, filename, dirname, codeCache);
}
