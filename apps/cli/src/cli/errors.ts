/** Exit codes of every command. */
export const ExitCode = {
  /** Done, errors within `--max-errors`. */
  Ok: 0,
  /** Done with more errors than allowed, malformed input, or a store failure. */
  Failed: 1,
  /** Bad invocation: unknown option, unreadable file, bad URL, bad configuration. */
  Usage: 2,
  /** Stopped by SIGINT/SIGTERM (128 + 2). */
  Interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The command cannot start as invoked. Printed as one line; exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command started but cannot go on (malformed dump, store down). Exit code 1. */
export class FatalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FatalError';
  }
}
