import type { Env } from '../store/open-cache.js';

/** The process surface a command uses; tests pass their own. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: Env;
  /** Install a SIGINT/SIGTERM handler; resolves a remover. Absent: no signal handling. */
  onInterrupt?: (handler: () => void) => () => void;
}

/** The real process. */
export function processIO(): CliIO {
  // `oauth-cache stats | head -1`: a closed stdout is not an error of the command.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onInterrupt: (handler) => {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}
