import type { Transaction } from './contract.js';

/** What a store answers while it checks a transaction's preconditions. */
export interface PreconditionReader {
  /** A live record exists at `key`. */
  present(key: string): boolean;
  /** Live members (score > now) of the index at `key`. */
  liveCount(key: string): number;
}

/**
 * The index of the first precondition of `tx` that does not hold, or `undefined` when all hold.
 * The one reading of the precondition rules for stores that check them in process (memory, the
 * key-value adapter, SQLite inside its transaction); the Redis script mirrors it.
 */
export function failedPrecondition(tx: Transaction, read: PreconditionReader): number | undefined {
  const require = tx.require ?? [];
  for (let i = 0; i < require.length; i++) {
    const p = require[i]!;
    let holds: boolean;
    switch (p.if) {
      case 'present':
        holds = read.present(p.key);
        break;
      case 'absent':
        holds = !read.present(p.key);
        break;
      case 'room':
        holds = read.liveCount(p.index) + p.adding <= p.cap;
        break;
      case 'count':
        holds = read.liveCount(p.index) === p.equals;
        break;
    }
    if (!holds) return i;
  }
  return undefined;
}
