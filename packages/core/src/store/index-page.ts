import type { IndexEntry, IndexPageOptions } from './contract.js';

/**
 * The order of {@link CacheStore.indexPage}: descending score, then descending member by UTF-8
 * bytes (Redis and SQLite order equal scores by bytes too). Negative when `a` comes first.
 */
export function compareIndexEntriesDesc(a: IndexEntry, b: IndexEntry): number {
  if (a.score !== b.score) return b.score - a.score;
  return compareBytes(b.member, a.member);
}

/**
 * Byte order of the UTF-8 forms of two strings, without encoding them: UTF-16 code unit order is
 * the same except that UTF-8 sorts characters above U+FFFF (surrogate pairs) after U+E000..U+FFFF.
 */
function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      const xPair = x <= 0xdfff;
      const yPair = y <= 0xdfff;
      if (xPair !== yPair) return xPair ? 1 : -1;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * {@link CacheStore.indexPage} over entries held in process (memory store, key-value adapter):
 * the live ones after the cursor, in the contract's order, at most `limit`.
 */
export function indexPageOf(
  entries: Iterable<readonly [string, number]>,
  now: number,
  options: IndexPageOptions,
): IndexEntry[] {
  const limit = Math.max(0, Math.floor(options.limit));
  if (!(limit > 0)) return [];
  const after = options.after;
  const page: IndexEntry[] = [];
  for (const [member, score] of entries) {
    if (!(score > now)) continue;
    const entry = { member, score };
    if (after !== undefined && compareIndexEntriesDesc(entry, after) <= 0) continue;
    page.push(entry);
  }
  return page.sort(compareIndexEntriesDesc).slice(0, limit);
}
