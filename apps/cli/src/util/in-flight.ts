/**
 * Runs tasks with at most `limit` in flight: `add` waits for a free slot. The first failure is kept
 * and thrown by the next `add` or by `drain`, after which no new task starts; `drain` always waits
 * for every started task, so nothing keeps writing after the caller moves on.
 */
export class InFlight {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  /** Start `task` once fewer than `limit` tasks run. */
  async add(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.throwFailure();
    const promise: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  /** Wait for every task; throw the first failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    this.throwFailure();
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure.error;
  }
}
