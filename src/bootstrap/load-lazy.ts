// Loads the lazy half (src/bootstrap/lazy.ts) on first use: from the executable's embedded asset, from lazy.cjs beside a plain bundle, or as source under tsx.

import * as errors from "../core/errors.ts";

/** Set by build.mjs to the asset name of the lazy bundle; undefined when running from source (tsx). */
declare const __LAZY_ASSET__: string | undefined;

type Lazy = typeof import("./lazy.ts");

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

/** The CommonJS wrapper; scripts/lazy-code-cache.cjs builds the code cache with exactly this text. */
const LAZY_WRAPPER_HEAD = "(function (exports, require, module) {";
const LAZY_WRAPPER_TAIL = "\n})";
/** Asset holding V8's code cache for the lazy half, made by the target's node at build time. */
const LAZY_CACHE_ASSET = "lazy.cache";

/** Whether V8 refused the embedded code cache (debug log, build test); undefined when there was none. */
export let lazyCodeCacheRejected: boolean | undefined;

async function load(): Promise<Lazy> {
  if (typeof __LAZY_ASSET__ === "undefined") return import("./lazy.ts");
  const [{ isSea, getAsset }, vm, fs, path] = await Promise.all([import("node:sea"), import("node:vm"), import("node:fs"), import("node:path")]);
  const code = isSea() ? (getAsset(__LAZY_ASSET__, "utf8") as string) : fs.readFileSync(path.join(__dirname, __LAZY_ASSET__), "utf8");
  let cachedData: Buffer | undefined;
  if (isSea()) {
    try {
      cachedData = Buffer.from(getAsset(LAZY_CACHE_ASSET) as ArrayBuffer);
    } catch {
      cachedData = undefined; // built without it (--no-code-cache)
    }
  }
  // build.mjs compiles the lazy half's import() calls to require(): a vm script has no module loader.
  const script = new vm.Script(LAZY_WRAPPER_HEAD + code + LAZY_WRAPPER_TAIL, { filename: __LAZY_ASSET__, ...(cachedData ? { cachedData } : {}) });
  if (cachedData) lazyCodeCacheRejected = script.cachedDataRejected === true;
  const fn = script.runInThisContext() as (exports: unknown, require: (id: string) => unknown, module: unknown) => void;
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  // The lazy bundle requires only Node built-ins and our shared error classes.
  const lazyRequire = (id: string): unknown => (id === "ecp:errors" ? errors : require(id));
  fn(mod.exports, lazyRequire, mod);
  return mod.exports as unknown as Lazy;
}
