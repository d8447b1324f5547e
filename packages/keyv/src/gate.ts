/**
 * A read/write gate for one database connection shared by a whole process.
 *
 * node-sqlite3 runs every statement of a `Database` on the same SQLite connection, so a
 * `BEGIN IMMEDIATE ... COMMIT` issued from async code would otherwise swallow statements from
 * unrelated callers (they would commit or roll back with it), and two transactions would collide
 * ("cannot start a transaction within a transaction"). Single statements run `shared` (concurrently:
 * each is atomic on its own); transactions run `exclusive`: they wait for in-flight statements to
 * finish, hold new ones back, and queue behind each other.
 */
export class ConnectionGate {
  #shared = 0;
  #drained: (() => void) | undefined;
  #exclusivePending = 0;
  #exclusiveTail: Promise<void> = Promise.resolve();

  /** Run a single statement (or a read) alongside others, never inside someone's transaction. */
  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusivePending > 0) await this.#exclusiveTail;
    this.#shared += 1;
    try {
      return await fn();
    } finally {
      this.#shared -= 1;
      if (this.#shared === 0) this.#drained?.();
    }
  }

  /** Run `fn` alone on the connection (a transaction, or statements whose `changes()` we read). */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.#exclusivePending += 1;
    const previous = this.#exclusiveTail;
    let release!: () => void;
    this.#exclusiveTail = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await previous;
      if (this.#shared > 0) {
        await new Promise<void>((resolve) => {
          this.#drained = resolve;
        });
      }
      this.#drained = undefined;
      return await fn();
    } finally {
      this.#exclusivePending -= 1;
      release();
    }
  }
}
