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
