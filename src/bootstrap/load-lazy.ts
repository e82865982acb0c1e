// Loads the lazy half (src/bootstrap/lazy.ts) on first use: from the executable's embedded asset, from lazy.cjs beside a plain bundle, or as source under tsx.

import * as errors from "../core/errors.ts";
import { LAZY_CACHE_ASSET, evaluateLazy, wrapLazySource, type LazyExports, type StartCodeCache } from "./wrapper.ts";

/** Set by build.mjs to the asset name of the lazy bundle; undefined when running from source (tsx). */
declare const __LAZY_ASSET__: string | undefined;

type Lazy = LazyExports;

let loaded: Promise<Lazy> | undefined;

/**
 * The lazy half's exports. A cache hit never calls this, so the start-up path compiles a ~30 KB
 * script instead of ~600 KB. The lazy bundle shares this bundle's error classes (it imports
 * `ecp:errors`, provided here), so `instanceof PluginError` holds across the two.
 */
export function loadLazy(): Promise<Lazy> {
  loaded ??= load();
  return loaded;
}

/** Whether V8 refused the embedded code cache (debug log, build test); undefined when there was none. */
let lazyCodeCacheRejected: boolean | undefined;

/** The last parameter of the start-up half's wrapper (wrapper.ts wrapStartSource); not defined in a plain `node bundle.cjs` or under tsx. */
declare const __ecpStartCodeCache: StartCodeCache;

/** What V8 did with the two halves' embedded code caches (the debug "modules" line, the build test); a half without one is left out. */
export function codeCacheReport(): { lazyCodeCache?: string; startCodeCache?: string } {
  const start = typeof __ecpStartCodeCache === "string" ? __ecpStartCodeCache : undefined;
  return {
    ...(lazyCodeCacheRejected === undefined ? {} : { lazyCodeCache: lazyCodeCacheRejected ? "rejected" : "accepted" }),
    ...(start === undefined ? {} : { startCodeCache: start }),
  };
}

async function load(): Promise<Lazy> {
  if (typeof __LAZY_ASSET__ === "undefined") return import("./lazy.ts");
  // require, not import(): the start-up bundle is CommonJS, and import() of a built-in loads the ESM loader (12 more built-ins).
  const { isSea, getAsset } = require("node:sea") as typeof import("node:sea");
  const vm = require("node:vm") as typeof import("node:vm");
  const code = isSea()
    ? (getAsset(__LAZY_ASSET__, "utf8") as string)
    : (require("node:fs") as typeof import("node:fs")).readFileSync(
        (require("node:path") as typeof import("node:path")).join(__dirname, __LAZY_ASSET__),
        "utf8",
      );
  let cachedData: Buffer | undefined;
  if (isSea()) {
    try {
      cachedData = Buffer.from(getAsset(LAZY_CACHE_ASSET) as ArrayBuffer);
    } catch {
      cachedData = undefined; // built without it (--no-code-cache)
    }
  }
  // build.mjs compiles the lazy half's import() calls to require(): a vm script has no module loader.
  const script = new vm.Script(wrapLazySource(code), { filename: __LAZY_ASSET__, ...(cachedData ? { cachedData } : {}) });
  if (cachedData) lazyCodeCacheRejected = script.cachedDataRejected === true;
  return evaluateLazy(script, require, errors);
}
