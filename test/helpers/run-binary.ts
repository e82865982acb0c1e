// Spawn the built executable the way the kubelet does: argv, env, stdin then EOF; collect stdout, stderr, exit code.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

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
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(BINARY, opts.args ?? [], { env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.stdin.on("error", () => undefined);
    const killer = setTimeout(() => p.kill("SIGKILL"), opts.killAfterMs ?? 60_000);
    p.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
    if (opts.stdin !== undefined) p.stdin.write(opts.stdin);
    if (!opts.holdStdin) p.stdin.end();
  });
}

/** A kubelet request as the kubelet's encoder writes it. */
export function request(image: string, apiVersion = "credentialprovider.kubelet.k8s.io/v1", extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ kind: "CredentialProviderRequest", apiVersion, image, ...extra }) + "\n";
}
