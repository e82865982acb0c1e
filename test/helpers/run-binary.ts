// Spawn the built executable the way the kubelet does: argv, env, stdin then EOF; collect stdout, stderr, exit code.

import { spawn } from "node:child_process";
import { closeSync, existsSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fifo } from "./fifo.ts";

/** The executable under test: dist/ecr-credential-provider, or ECR_CREDENTIAL_PROVIDER_BIN. */
export const BINARY = process.env.ECR_CREDENTIAL_PROVIDER_BIN ?? fileURLToPath(new URL("../../dist/ecr-credential-provider", import.meta.url));

export function binaryAvailable(): boolean {
  return existsSync(BINARY);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  args?: string[];
  env: Record<string, string>;
  stdin?: string | Buffer;
  /** Leave stdin open (never send EOF). */
  holdStdin?: boolean;
  /** Kill after this long (the kubelet's limit is 60 s). */
  killAfterMs?: number;
}

export function runBinary(opts: RunOptions): Promise<RunResult> {
  return runBinaryWith(["pipe", "pipe", "pipe"], opts);
}

/** Like runBinary, but stdin is a real pipe (test/helpers/fifo.ts), as the kubelet gives it. Linux only. */
export async function runBinaryOnPipe(opts: RunOptions): Promise<RunResult> {
  const p = fifo();
  const result = runBinaryWith([p.read, "pipe", "pipe"], opts);
  closeSync(p.read);
  try {
    // Written while the child reads (a write past the pipe's buffer blocks until it does).
    if (opts.stdin !== undefined) writeAll(p.write, Buffer.from(opts.stdin));
  } finally {
    if (!opts.holdStdin) closeSync(p.write);
  }
  const r = await result;
  if (opts.holdStdin) closeSync(p.write);
  return r;
}

/** Write it all, stopping quietly when the child has stopped reading (EPIPE). */
function writeAll(fd: number, buf: Buffer): void {
  try {
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPIPE") throw e;
  }
}

/** Spawn with the given stdio (a descriptor of the caller's, or Node's "pipe"); `stdin` is written when stdin is "pipe". */
export function runBinaryWith(stdio: ("pipe" | number)[], opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(BINARY, opts.args ?? [], { env: opts.env, stdio });
    let stdout = "";
    let stderr = "";
    p.stdout?.on("data", (d) => (stdout += d));
    p.stderr?.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.stdin?.on("error", () => undefined);
    const killer = setTimeout(() => p.kill("SIGKILL"), opts.killAfterMs ?? 60_000);
    p.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
    if (!p.stdin) return;
    if (opts.stdin !== undefined) p.stdin.write(opts.stdin);
    if (!opts.holdStdin) p.stdin.end();
  });
}

/** A kubelet request as the kubelet's encoder writes it. */
export function request(image: string, apiVersion = "credentialprovider.kubelet.k8s.io/v1", extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ kind: "CredentialProviderRequest", apiVersion, image, ...extra }) + "\n";
}
