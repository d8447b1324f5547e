/** Thrown when a Redis call outlives its per-command deadline. */
export class CommandTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'CommandTimeoutError';
  }
}

/**
 * Reject after `ms` if `promise` has not settled. For rare calls (connect, subscribe, close): the
 * per-command path uses {@link CommandDeadlines}, which does not arm a timer per call.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
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

/** A command still waiting for its answer; a node of the deadline queue (oldest first). */
interface Pending {
  readonly startedAt: number;
  readonly operation: string;
  readonly reject: (error: unknown) => void;
  prev: Pending | undefined;
  next: Pending | undefined;
  /** Unlinked (answered, or rejected by the deadline). */
  done: boolean;
}

/**
 * Per-command deadlines for a whole client with ONE timer instead of one per call.
 *
 * node-redis' own command timeout only covers commands not yet written; a frozen server (SIGSTOP,
 * network black hole) would otherwise hold a written command until the socket timeout. Pending
 * commands sit in a queue ordered by start time (a doubly linked list: an answer unlinks its node
 * in O(1)); a single timer is armed for the OLDEST command's deadline and, when it fires, rejects
 * every command past its deadline and re-arms itself for the next oldest. Rejection therefore
 * happens at the deadline (plus event-loop lag), not a sweep period later.
 *
 * The timer is left armed when the queue empties: under steady traffic it fires about once per
 * deadline period and finds nothing to do, instead of being created and cleared on every call
 * (a `setTimeout` + `clearTimeout` pair per command was most of what the old wrapper cost). It is
 * `unref`ed: a command in flight holds its socket open anyway.
 */
export class CommandDeadlines {
  readonly #ms: number;
  readonly #mapError: (operation: string, error: unknown) => unknown;
  #head: Pending | undefined;
  #tail: Pending | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * `ms`: the deadline of every command. `mapError(operation, error)` turns a failure (the
   * command's own, or a {@link CommandTimeoutError}) into what the caller sees.
   */
  constructor(ms: number, mapError: (operation: string, error: unknown) => unknown) {
    this.#ms = ms;
    this.#mapError = mapError;
  }

  /** Commands waiting for an answer (diagnostics, tests). */
  get pending(): number {
    let n = 0;
    for (let node = this.#head; node; node = node.next) n += 1;
    return n;
  }

  /**
   * `promise`'s value; its failure mapped by `mapError`; or a mapped {@link CommandTimeoutError}
   * once it has been pending for the deadline (a late answer is then ignored, a late failure is
   * handled, never "unhandled").
   */
  track<T>(operation: string, promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const node: Pending = {
        startedAt: performance.now(),
        operation,
        reject,
        prev: this.#tail,
        next: undefined,
        done: false,
      };
      if (this.#tail) this.#tail.next = node;
      else this.#head = node;
      this.#tail = node;
      if (this.#timer === undefined) this.#arm(this.#ms);
      promise.then(
        (value) => {
          this.#unlink(node);
          resolve(value);
        },
        (error: unknown) => {
          if (node.done) return; // already rejected by the deadline
          this.#unlink(node);
          reject(this.#mapError(operation, error));
        },
      );
    });
  }

  #arm(delay: number): void {
    const ms = Math.max(1, Math.ceil(delay));
    this.#timer = setTimeout(() => this.#expire(), ms);
    this.#timer.unref();
  }

  #expire(): void {
    // Timers run before the event loop reads sockets: after a long synchronous stretch (a large
    // batch being encoded), answers that already arrived still sit unread. Judge after this turn's
    // I/O (setImmediate runs after the poll phase), so only commands really unanswered time out.
    setImmediate(() => this.#reap());
  }

  #reap(): void {
    this.#timer = undefined;
    const now = performance.now();
    let error: CommandTimeoutError | undefined;
    while (this.#head && this.#head.startedAt + this.#ms <= now) {
      const node = this.#head;
      this.#unlink(node);
      error ??= new CommandTimeoutError(this.#ms);
      node.reject(this.#mapError(node.operation, error));
    }
    // Re-arm for the oldest command still waiting; none: stay idle until the next command.
    if (this.#head) this.#arm(this.#head.startedAt + this.#ms - now);
  }

  #unlink(node: Pending): void {
    if (node.done) return;
    node.done = true;
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    node.prev = undefined;
    node.next = undefined;
  }
}
