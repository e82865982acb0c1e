// Build time only: the loopback ECR the code-cache warm-ups (warm-up.ts, warm-up-start.ts) fetch a token from.

import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** A loopback ECR that answers every call with a fixed token: the fetch path is what matters, not the values. */
export async function fakeEcr(): Promise<{ url: string; calls: () => number; close: () => void }> {
  const token = Buffer.from("AWS:warm-up").toString("base64");
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify({ authorizationData: [{ authorizationToken: token, expiresAt: 4102444800 }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  server.unref(); // never what keeps a warm-up process alive: the client's own socket does while a call is under way
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls, close: () => server.close() };
}
