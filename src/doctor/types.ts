// Types shared by the doctor's checks: injected dependencies, the probe contract and findings.

/** Result of one check line: `ok|warn|fail|skip  <check>: <message>  (fix: <fix>)`. */
export interface Finding {
  status: "ok" | "warn" | "fail" | "skip";
  check: string;
  message: string;
  fix?: string;
}

/** The stat fields the doctor reads (node's fs.Stats satisfies it). */
export interface DoctorStat {
  mode: number;
  uid: number;
  isDirectory(): boolean;
  isFile(): boolean;
}

/** Read-only file-system access; every method rejects (ENOENT etc.) for a missing path. */
export interface DoctorFs {
  stat(path: string): Promise<DoctorStat>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<string>;
  /** Raw bytes, used for ELF headers and libc version strings. */
  readBytes(path: string): Promise<Uint8Array>;
}

/** Outcome of running a helper program (getconf, `kubelet --version`). */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * What the core's `probe(image)` reports after resolving AWS credentials and asking ECR (or ECR
 * Public) for a token for `image`'s registry, exactly as a kubelet request would. It must never
 * include the token. `source` is set as soon as credentials resolved, even if ECR then failed;
 * `serverDate` is the HTTP Date of any AWS response (for clock skew).
 */
/** The provider entry's settings the kubelet would hand the plugin. */
export interface ProbeProvider {
  args: string[];
  env: Array<{ name: string; value: string }>;
}

export interface ProbeResult {
  ok: boolean;
  /** Credential source that answered, e.g. "env", "web-identity", "roles-anywhere", "imds". */
  source?: string;
  region?: string;
  endpoint?: string;
  expiresAt?: Date;
  serverDate?: Date;
  error?: { code: string; message: string };
}

/**
 * Everything the doctor touches, injected. `runDoctor` never reads `process`, the real file
 * system or the network on its own.
 */
export interface DoctorDeps {
  /** The doctor's own environment (defaults such as ECR_CREDENTIAL_PROVIDER_CACHE_DIR). */
  env: Readonly<Record<string, string | undefined>>;
  fs: DoctorFs;
  now: () => Date;
  /** Writes one line (without trailing newline) to stdout. */
  write: (line: string) => void;
  /** Absolute path of the running executable (its file name must equal a provider `name`). */
  executablePath: string;
  /** The node's platform (main.ts passes process.platform; default linux): "win32" switches to the Windows checks. */
  platform?: NodeJS.Platform;
  /** argv of the running kubelet (e.g. from /proc/<pid>/cmdline; on Windows the kubelet service's ImagePath), or undefined when none runs. */
  kubeletCommandLine: () => Promise<string[] | undefined>;
  /** Runs a program without a shell; rejects only when it cannot be started. */
  runCommand: (file: string, args: string[]) => Promise<CommandResult>;
  /**
   * AWS check for one image (as the kubelet would send it); not called with --offline. `provider`
   * carries the plugin's configured `args` and `env`, so the probe runs with what the kubelet passes.
   */
  probe: (image: string, provider?: ProbeProvider) => Promise<ProbeResult>;
}
