// HTTP plumbing for every AWS client: proxy from Config, per-attempt timeouts, no keep-alive, one TLS context, a plain response reader.

import * as http from "node:http";
import * as https from "node:https";
import { Readable } from "node:stream";
import * as tls from "node:tls";
import { NodeHttpHandler, streamCollector as sdkStreamCollector } from "@smithy/node-http-handler";

export interface HttpSettings {
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY as set (Config.proxyEnv). */
  proxyEnv: Readonly<Record<string, string>>;
  attemptTimeoutMs: number;
  connectTimeoutMs: number;
}

export interface Agents {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
}

/**
 * Agents that honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) through Node's own
 * `proxyEnv` support. The SDK ignores those variables by default; IMDS credential calls use
 * Node's global agent and so stay direct, as they must (169.254.169.254 is link-local).
 * keepAlive is off so no socket keeps the process alive after the answer.
 * Every HTTPS connection of the run (ECR, STS, Roles Anywhere, a retry) shares one TLS context:
 * without it Node builds a new one (an OpenSSL context with the root store) per connection.
 */
export function createAgents(settings: HttpSettings): Agents {
  const proxyEnv = { ...settings.proxyEnv } as NodeJS.ProcessEnv;
  // Windows tooling writes host lists with semicolons (OpenShift's WMCO rewrites NO_PROXY so);
  // Node splits on commas only.
  for (const k of ["NO_PROXY", "no_proxy"]) if (proxyEnv[k]?.includes(";")) proxyEnv[k] = proxyEnv[k]!.replaceAll(";", ",");
  const secureContext = tls.createSecureContext({ minVersion: "TLSv1.2" });
  return {
    httpAgent: new http.Agent({ keepAlive: false, proxyEnv } as http.AgentOptions),
    httpsAgent: new https.Agent({ keepAlive: false, proxyEnv, minVersion: "TLSv1.2", secureContext } as https.AgentOptions),
  };
}

/** The SDK request handler every client of ours shares. */
export function createRequestHandler(settings: HttpSettings, agents: Agents = createAgents(settings)): NodeHttpHandler {
  return new NodeHttpHandler({
    ...agents,
    connectionTimeout: settings.connectTimeoutMs,
    requestTimeout: settings.attemptTimeoutMs,
  });
}

/**
 * The clients' `streamCollector`: reads a Node response (an IncomingMessage) into bytes. The SDK's
 * own first asks whether the body is a web ReadableStream, and touching that global makes Node load
 * its web streams (four modules, a few ms of CPU) to read a 1 KB JSON answer. Anything that is not a
 * Node stream goes to the SDK's collector.
 */
export function collectBody(body: unknown): Promise<Uint8Array> {
  if (!(body instanceof Readable)) return sdkStreamCollector(body as Parameters<typeof sdkStreamCollector>[0]);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    body.on("data", (c: Buffer | string) => chunks.push(typeof c === "string" ? Buffer.from(c) : c));
    body.once("error", reject);
    body.once("end", () => {
      ended = true;
      const all = Buffer.concat(chunks);
      resolve(new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
    });
    body.once("close", () => {
      if (!ended) reject(new Error("the response ended before its body was read"));
    });
  });
}
