// The trivial SEA plus one bare HTTPS request, for benchmarks: what Node alone costs for a cold run's network part
// (loading https/tls/crypto, the first TLS context, the handshake, one POST and its answer), with no AWS SDK and no
// logic of ours. POSTs a GetAuthorizationToken-shaped body to AWS_ENDPOINT_URL_ECR (unsigned: the fake's refusal is a
// full round trip all the same), trusting NODE_EXTRA_CA_CERTS as any Node program does and the node's trust store as
// ours finds it (src/aws/trust.ts, under the same --use-openssl-ca), then prints the trivial SEA's fixed answer. Without AWS_ENDPOINT_URL_ECR (the build's smoke test) it only prints. Built by build.mjs --with-trivial.
import { fixedResponse } from "./response.ts";
import { createHash } from "node:crypto";
import { request } from "node:https";
import { useTrustStore } from "../../src/aws/trust.ts";

const RESPONSE = fixedResponse("https-post");

function post(endpoint: string, done: () => void): void {
  const body = "{}";
  const req = request(
    new URL("/", endpoint),
    {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
        "x-amz-content-sha256": createHash("sha256").update(body).digest("hex"),
      },
    },
    (res) => {
      res.resume();
      res.on("end", done);
    },
  );
  req.on("error", (err) => {
    process.stderr.write(`https-post: ${err.message}\n`);
    process.exit(1);
  });
  req.end(body);
}

process.stdin.resume();
process.stdin.on("end", () => {
  const answer = () => process.stdout.write(`${RESPONSE}\n`);
  const endpoint = process.env["AWS_ENDPOINT_URL_ECR"];
  if (endpoint) {
    const env = process.env;
    useTrustStore(
      { ...(env["SSL_CERT_FILE"] ? { SSL_CERT_FILE: env["SSL_CERT_FILE"] } : {}), ...(env["SSL_CERT_DIR"] ? { SSL_CERT_DIR: env["SSL_CERT_DIR"] } : {}) },
      { opensslCa: process.execArgv.includes("--use-openssl-ca"), setEnv: (k, v) => (env[k] = v) },
    );
    post(endpoint, answer);
  } else answer();
});
