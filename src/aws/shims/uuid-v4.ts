// Build-time stand-in (build.mjs, SDK_SHIMS) for @smithy/core's serde/uuid/v4.js: the same bindV4, but the UUID comes from
// node:crypto (loaded on every cold run anyway for signing) instead of the Web Crypto global, whose first touch loads
// Node's webcrypto modules (~1 ms of CPU) for one invocation id per request. Same format: a random (version 4) UUID.

/** The SDK's signature: its fallback takes a getRandomValues; node:crypto.randomUUID needs none. */
export function bindV4(_getRandomValues?: (bytes: Uint8Array) => Uint8Array): () => string {
  const { randomUUID } = process.getBuiltinModule("node:crypto");
  return () => randomUUID();
}
