// stderr-only logger with levels, text or JSON lines, and redaction of every registered secret.

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export type LogFormat = "text" | "json";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Secrets shorter than this are not registered: redacting "a" would mangle every line. */
const MIN_SECRET_LENGTH = 4;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Register a value that must never be written; every later line has it replaced. */
  addSecret(value: string | undefined | null): void;
  /** Replace every registered secret in `text`. */
  redact(text: string): string;
  readonly level: LogLevel;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go: stderr in production, a buffer in tests. Never stdout. */
  write: (line: string) => void;
  now: () => Date;
}

/**
 * Create a logger. Lines are `ecr-credential-provider: <level>: <msg> k=v…` (text) or one JSON
 * object per line (json). Field values are stringified and redacted like the message.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const secrets = new Set<string>();
  const redact = (text: string): string => {
    let out = text;
    // Longest first, so a secret that contains another is removed whole.
    for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join("[REDACTED]");
    return out;
  };
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < RANK[opts.level]) return;
    if (opts.format === "json") {
      const rec: Record<string, unknown> = { time: opts.now().toISOString(), level, msg };
      for (const [k, v] of Object.entries(fields ?? {})) rec[k] = v;
      opts.write(redact(JSON.stringify(rec)) + "\n");
      return;
    }
    const kv = Object.entries(fields ?? {})
      .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`)
      .join(" ");
    opts.write(redact(`ecr-credential-provider: ${level}: ${msg}${kv ? " " + kv : ""}`).replace(/\n/g, " ") + "\n");
  };
  return {
    level: opts.level,
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    addSecret: (v) => {
      if (v && v.length >= MIN_SECRET_LENGTH) secrets.add(v);
    },
    redact,
  };
}
