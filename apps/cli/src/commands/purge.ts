import type { ExitCodeValue } from '../cli/errors.js';
import type { CliIO } from '../cli/io.js';
import { withCache } from './with-cache.js';

/** `oauth-cache purge`: remove expired records now. */
export function runPurge(opts: { store?: string; json?: boolean }, io: CliIO): Promise<ExitCodeValue> {
  return withCache(opts.store, 'none', io, async (cache) => {
    const removed = await cache.purgeExpired();
    io.stdout.write(opts.json ? `${JSON.stringify({ removed })}\n` : `removed ${removed} expired records\n`);
  });
}
