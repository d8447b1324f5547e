/**
 * What a store tells the L1 about changes made by other processes, beyond the deleted keys it
 * reports through `onRemoteDelete`.
 */
export interface ChangeWatcher {
  /**
   * Every change other processes committed before `at` (epoch ms, this process's clock) has been
   * reported: its keys through `onRemoteDelete`, or by a {@link lost} call.
   */
  settled(at: number): void;
  /** Changes may have gone unreported (a dropped subscription, writes of unknown keys): forget what is held. */
  lost(): void;
}

/**
 * Stores that can prove the L1 current: {@link ChangeWatcher.settled} about every `intervalMs`
 * while the proof holds, and nothing while it does not (the L1 then serves nothing older than its
 * staleness bound). Resolves the function that stops watching.
 *
 * - Redis: the store publishes a heartbeat on its invalidation channel and hears it back; pub/sub
 *   delivers a channel's messages in order, so every invalidation published before the heartbeat
 *   has arrived. A subscription that drops or reconnects is {@link ChangeWatcher.lost}.
 * - SQLite: `PRAGMA data_version` changes when another connection commits; unchanged since the
 *   last look, nothing was written by anyone else, changed, the L1 forgets everything.
 */
export interface ChangeWatch {
  watchChanges(watcher: ChangeWatcher, intervalMs: number): Promise<() => Promise<void>>;
}

/** True when `store` offers {@link ChangeWatch}. */
export function hasChangeWatch(store: object): store is ChangeWatch {
  return typeof (store as Partial<ChangeWatch>).watchChanges === 'function';
}
