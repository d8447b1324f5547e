import type { ChangeWatcher } from '../change-watch.js';

/**
 * The SQLite side of {@link ChangeWatch}: look at `PRAGMA data_version` every `intervalMs`. SQLite
 * changes it when ANOTHER connection commits (this connection's own writes go through the L1,
 * which drops what they touch). Unchanged since the previous look: nothing was written elsewhere
 * before this look began, which is what `settled` reports. Changed: which keys is unknown, so the
 * watcher is told everything is `lost`. A look that fails (the file is locked by a long merge, the
 * store is closing) proves nothing, and the L1 falls back to its staleness bound.
 *
 * `read` runs the pragma on the store's connection. Resolves the function that stops the looks.
 */
export async function watchDataVersion(
  read: () => Promise<number>,
  watcher: ChangeWatcher,
  intervalMs: number,
): Promise<() => Promise<void>> {
  let last = await read();
  let looking: Promise<void> | undefined;
  const look = async () => {
    const at = Date.now();
    const version = await read();
    if (version !== last) {
      last = version;
      watcher.lost();
    }
    watcher.settled(at);
  };
  const timer = setInterval(() => {
    // One look at a time: a slow one (the write lock held elsewhere) is not queued behind.
    looking ??= look()
      .catch(() => undefined)
      .finally(() => {
        looking = undefined;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await looking;
  };
}
