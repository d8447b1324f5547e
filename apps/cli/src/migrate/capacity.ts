import type { TokenCache } from '@oauth-cache/core';
import { UsageError } from '../cli/errors.js';

/** Records a run would add, counted by the cap that limits them. */
export interface Demand {
  tokens: number;
  sessions: number;
}

/** A source's side of the capacity check (see `capacity-sources.ts`). */
export interface DemandSource {
  /** A cheap upper bound of what the run may add (file size over the smallest entry, or counts). */
  bound(): Promise<Demand>;
  /**
   * The keys, relative to the prefix (`at:…`, `rt:…`, `s:…`), of every live and valid record the
   * run would write, in batches. Read only when the bound does not fit.
   */
  keys(): AsyncIterable<string[]>;
}

/**
 * Refuse a run, before it writes anything, when the target's caps (`MAX_TOKEN_CACHE_SIZE`,
 * `MAX_SESSIONS`) cannot hold what the store holds plus what the run would add: a migration must
 * not make the cache evict live tokens, now or at the next login. Three steps, each only when the
 * previous one does not fit: the source's cheap bound; its exact count of live, valid records;
 * that count less what the target already holds under the same keys (a re-run after a kill).
 * Throws a {@link UsageError} (exit 2) naming the variable and the numbers.
 */
export async function ensureRoom(target: TokenCache, source: DemandSource): Promise<void> {
  const now = Date.now();
  const { store, config } = target;
  const held: Demand = {
    tokens: await store.indexCount(target.key('ix:tokens'), now),
    sessions: await store.indexCount(target.key('ix:sessions'), now),
  };
  const caps: Demand = { tokens: config.maxTokens, sessions: config.maxSessions };
  if (overflows(held, await source.bound(), caps).length === 0) return;

  const adds: Demand = { tokens: 0, sessions: 0 };
  const empty = held.tokens === 0 && held.sessions === 0;
  for await (const keys of source.keys()) {
    const present = empty ? [] : await store.getMany(keys.map((k) => target.key(k)));
    keys.forEach((key, i) => {
      if (present[i] !== undefined && present[i] !== null) return;
      const kind = kindOf(key);
      if (kind) adds[kind]++;
    });
  }
  const problems = overflows(held, adds, caps);
  if (problems.length > 0) {
    throw new UsageError(
      `the target cannot hold this migration without evicting live tokens: ${problems.join('; ')}. Nothing was written; raise the limit (on the server too) and run again`,
    );
  }
}

const LIMITS = { tokens: 'MAX_TOKEN_CACHE_SIZE', sessions: 'MAX_SESSIONS' } as const;

function overflows(held: Demand, adds: Demand, caps: Demand): string[] {
  const out: string[] = [];
  for (const kind of ['tokens', 'sessions'] as const) {
    const total = held[kind] + adds[kind];
    if (total > caps[kind]) {
      out.push(
        `${LIMITS[kind]} is ${caps[kind]}, the store holds ${held[kind]} ${kind} and this run adds ${adds[kind]} (needs at least ${total})`,
      );
    }
  }
  return out;
}

function kindOf(key: string): keyof Demand | undefined {
  if (key.startsWith('at:') || key.startsWith('rt:')) return 'tokens';
  if (key.startsWith('s:')) return 'sessions';
  return undefined;
}
