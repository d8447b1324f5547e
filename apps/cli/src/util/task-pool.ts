/**
 * Runs tasks with at most `limit` of them in flight. The first failure is kept and thrown by the
 * next `add` or by `drain`, after which no new task starts; `drain` always waits for every started
 * task, so nothing keeps writing behind the caller's back once it moves on.
 *
 * Two ways in: {@link add} a task at a time as work arrives (the batches of a streamed source), or
 * {@link TaskPool.forEach} over a list already in memory (a batch replayed entry by entry).
 */
export class TaskPool {
  readonly #running = new Set<Promise<void>>();
  readonly #limit: number;
  #failure: { error: unknown } | undefined;

  /** `limit`: most tasks in flight (at least 1). */
  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /**
   * Run `fn` over `items`, at most `limit` calls in flight. Once a call throws, no new call starts;
   * the calls already running are awaited, then the first error is thrown.
   */
  static async forEach<T>(
    items: readonly T[],
    limit: number,
    fn: (item: T, index: number) => Promise<void>,
  ): Promise<void> {
    const pool = new TaskPool(limit);
    try {
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        await pool.add(() => fn(item, i));
      }
    } finally {
      await pool.drain();
    }
  }

  /** Start `task` once fewer than `limit` tasks run; throws an earlier task's failure instead. */
  async add(task: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.#limit) await Promise.race(this.#running);
    this.#throwFailure();
    const promise: Promise<void> = task()
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#running.delete(promise));
    this.#running.add(promise);
  }

  /** Wait for every task; throw the first failure. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    this.#throwFailure();
  }

  #throwFailure(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
