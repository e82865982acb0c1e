// Typed failures: each carries a stable code, the process exit code and a message safe to print.

/** Exit codes the plugin documents. The kubelet only sees "non-zero"; these are for operators and tests. */
export const EXIT = {
  ok: 0,
  internal: 1,
  input: 2,
  config: 3,
  credentials: 4,
  upstream: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Base of every expected failure. `message` must already be safe for the kubelet log:
 * never a secret, never a raw upstream body. Keep the original error in `cause`.
 */
export class PluginError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  constructor(code: string, exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad request on stdin, bad arguments, or an image that is not an ECR registry. Exit 2. */
export class InputError extends PluginError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, EXIT.input, message, options);
    this.name = "InputError";
  }
}

/** The operator's configuration (flags, env, files) is wrong or unreadable. Exit 3. */
export class ConfigError extends PluginError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, EXIT.config, message, options);
    this.name = "ConfigError";
  }
}

/** No AWS credentials could be found, or AWS refused them. Exit 4. */
export class CredentialsError extends PluginError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, EXIT.credentials, message, options);
    this.name = "CredentialsError";
  }
}

/** ECR, ECR Public, STS, IMDS or Roles Anywhere failed, answered garbage, or timed out. Exit 5. */
export class UpstreamError extends PluginError {
  /** True when the failure is worth retrying (throttling, 5xx, network). */
  readonly retryable: boolean;
  constructor(code: string, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(code, EXIT.upstream, message, options);
    this.name = "UpstreamError";
    this.retryable = options?.retryable ?? false;
  }
}
