/**
 * One catalogue of user-facing errors. Each carries a stable `code` and a message that says what to
 * do; the CLI prints `message` (never a stack) and exits with `exitCode`.
 */
export type ErrorCode =
  | 'CONFIG_READ'
  | 'CONFIG_PARSE'
  | 'CONFIG_INVALID'
  | 'NODE_UNKNOWN'
  | 'LISTEN_FAILED'
  | 'USAGE'
  | 'PARENT_READ'
  | 'PARENT_APPLY'
  | 'PARENT_AUTH'
  | 'PARENT_NOT_FOUND'
  | 'PARENT_TIMEOUT'
  | 'TSIG_KEY'
  | 'CHECK_FAILED'
  | 'STATUS_UNREACHABLE';

export class ClusterDnsError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly details: string[];
  constructor(code: ErrorCode, message: string, opts: { exitCode?: number; details?: string[] } = {}) {
    super(message);
    this.name = 'ClusterDnsError';
    this.code = code;
    this.exitCode = opts.exitCode ?? 2;
    this.details = opts.details ?? [];
  }
  /** The text a user sees: the message, then one indented line per detail. */
  format(): string {
    return [this.message, ...this.details.map((d) => `  - ${d}`)].join('\n');
  }
}

export function isClusterDnsError(e: unknown): e is ClusterDnsError {
  return e instanceof ClusterDnsError;
}
