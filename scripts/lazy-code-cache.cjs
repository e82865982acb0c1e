// Run by the TARGET's node at build time: compile and evaluate the lazy half exactly as
// src/bootstrap/load-lazy.ts does, exercise one token fetch against a loopback stand-in (so the functions
// a real cache miss runs are compiled too), then write V8's code cache for it.
// Usage: node lazy-code-cache.cjs <lazy.cjs> <out.cache>
"use strict";
const fs = require("node:fs");
const http = require("node:http");
const vm = require("node:vm");
const [lazyFile, outFile] = process.argv.slice(2);
const code = fs.readFileSync(lazyFile, "utf8");
// Must stay byte-identical to LAZY_WRAPPER_* in src/bootstrap/load-lazy.ts, or V8 rejects the cache
// (test/e2e/build.test.ts checks it is accepted).
const script = new vm.Script("(function (exports, require, module) {" + code + "\n})", { filename: "lazy.cjs" });
class PluginError extends Error {}
const errors = { PluginError, InputError: PluginError, ConfigError: PluginError, CredentialsError: PluginError, UpstreamError: PluginError, EXIT: {} };
const mod = { exports: {} };
script.runInThisContext()(mod.exports, (id) => (id === "ecp:errors" ? errors : require(id)), mod);

async function warmUp() {
  // A fixed answer: the fetch path is what matters, not the values.
  const token = Buffer.from("AWS:warm-up").toString("base64");
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify({ authorizationData: [{ authorizationToken: token, expiresAt: 4102444800 }] }));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}`;
  // The default chain reads its credentials from the environment, as it does in a real run.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDWARMUP", AWS_SECRET_ACCESS_KEY: "warm-up" });
  const log = { debug() {}, info() {}, warn() {}, error() {}, addSecret() {}, redact: (s) => s, level: "silent" };
  const config = { attemptTimeoutMs: 5000, connectTimeoutMs: 3000, maxAttempts: 1, awsEnv: {}, endpoints: { ecr: url }, proxyEnv: {} };
  const fetch = mod.exports.wireTokenFetcher({ config, log, now: () => new Date(0), signal: new AbortController().signal });
  try {
    await fetch({ kind: "private", partition: "aws", region: "us-east-1", account: "123456789012", fips: false, dualstack: false }, { source: "default-chain", description: "", identity: "" });
  } finally {
    server.close();
  }
}

warmUp().then(
  () => fs.writeFileSync(outFile, script.createCachedData()),
  (err) => {
    console.error(`lazy-code-cache: the warm-up fetch failed: ${err && err.stack}`);
    process.exit(1);
  },
);
