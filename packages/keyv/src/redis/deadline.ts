/** Thrown when a Redis call outlives its per-command deadline. */
export class CommandTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'CommandTimeoutError';
  }
}

/**
 * Reject after `ms` if `promise` has not settled. node-redis' own command timeout only covers
 * commands not yet written; a frozen server (SIGSTOP, network black hole) would otherwise hold a
 * written command until the socket timeout. The late settlement is ignored.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  // One promise and one timer per call (no Promise.race): this wraps every Redis command.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CommandTimeoutError(ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        // Also after the deadline fired: handled here, so a late failure is never "unhandled".
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
