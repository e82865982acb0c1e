// HTTP plumbing for every AWS client: proxy from Config, per-attempt timeouts, no keep-alive.

import * as http from "node:http";
import * as https from "node:https";
import { NodeHttpHandler } from "@smithy/node-http-handler";

export interface HttpSettings {
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY as set (Config.proxyEnv). */
  proxyEnv: Readonly<Record<string, string>>;
  attemptTimeoutMs: number;
  connectTimeoutMs: number;
}

/**
 * Agents that honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) through Node's own
 * `proxyEnv` support. The SDK ignores those variables by default; IMDS credential calls use
 * Node's global agent and so stay direct, as they must (169.254.169.254 is link-local).
 * keepAlive is off so no socket keeps the process alive after the answer.
 */
export function createAgents(settings: HttpSettings): { httpAgent: http.Agent; httpsAgent: https.Agent } {
  const proxyEnv = { ...settings.proxyEnv } as NodeJS.ProcessEnv;
  return {
    httpAgent: new http.Agent({ keepAlive: false, proxyEnv } as http.AgentOptions),
    httpsAgent: new https.Agent({ keepAlive: false, proxyEnv, minVersion: "TLSv1.2" } as https.AgentOptions),
  };
}

/** The SDK request handler every client of ours shares. */
export function createRequestHandler(settings: HttpSettings): NodeHttpHandler {
  const { httpAgent, httpsAgent } = createAgents(settings);
  return new NodeHttpHandler({
    httpAgent,
    httpsAgent,
    connectionTimeout: settings.connectTimeoutMs,
    requestTimeout: settings.attemptTimeoutMs,
  });
}
