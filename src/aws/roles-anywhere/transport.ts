// The default Roles Anywhere transport: one POST over node:https (TLS >= 1.2) or node:http, bounded response size.

import * as http from "node:http";
import * as https from "node:https";
import type { RolesAnywhereHttp } from "./types.ts";

/** A CreateSession answer is a few KiB; anything much larger is not one. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Default transport over node:https (TLS ≥ 1.2) or node:http for an `http://` override, with an
 * optional agent (e.g. a proxy-aware one). The Host header is the signed host.
 */
export function createNodeHttpSend(agentOrAgents?: http.Agent | { http?: http.Agent; https?: http.Agent }): RolesAnywhereHttp {
  const pick = (protocol: string): http.Agent | undefined => {
    if (agentOrAgents instanceof http.Agent) return agentOrAgents;
    return protocol === "http:" ? agentOrAgents?.http : agentOrAgents?.https;
  };
  return (req) =>
    new Promise((resolve, reject) => {
      const url = new URL(req.url);
      const headers = { ...req.headers, "content-length": String(Buffer.byteLength(req.body, "utf8")) };
      const onResponse = (res: http.IncomingMessage): void => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            res.destroy(new Error("response too large"));
            return;
          }
          chunks.push(c);
        });
        res.on("error", reject);
        res.on("end", () => {
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks).toString("utf8") });
        });
      };
      const agent = pick(url.protocol);
      const request =
        url.protocol === "http:"
          ? http.request(url, { method: req.method, headers, signal: req.signal, ...(agent ? { agent } : {}) }, onResponse)
          : https.request(url, { method: req.method, headers, signal: req.signal, minVersion: "TLSv1.2", ...(agent ? { agent } : {}) }, onResponse);
      request.on("error", reject);
      request.end(req.body);
    });
}
