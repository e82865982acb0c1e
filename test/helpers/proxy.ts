// A minimal forward proxy on 127.0.0.1 (CONNECT tunnels and absolute-form HTTP) that records what passed through it.

import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";

export interface FakeProxy {
  url: string;
  /** `CONNECT host:port` or `GET http://…` lines, in order. */
  seen: string[];
  close(): Promise<void>;
}

export async function startProxy(): Promise<FakeProxy> {
  const seen: string[] = [];
  // CONNECT tunnels leave the HTTP server's bookkeeping: track them so close() can end them.
  const tunnels = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? "");
    const headers = { ...req.headers, "x-fake-proxy": "1" };
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: target.pathname + target.search, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.on("connect", (req, socket, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = String(req.url).split(":");
    tunnels.add(socket as net.Socket);
    socket.on("close", () => tunnels.delete(socket as net.Socket));
    const up = net.connect(Number(port), host!, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    tunnels.add(up);
    up.on("close", () => tunnels.delete(up));
    up.on("error", () => socket.destroy());
    socket.on("error", () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((r) => {
        for (const s of tunnels) s.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
