import type { TokenCache } from '@oauth-cache/core';
import { DigestSet } from '@oauth-cache/keyv';
import { readJsonl } from '../jsonl/jsonl-source.js';
import { readLegacyDump } from '../legacy/dump-source.js';
import { checkLegacyEntry } from '../legacy/entry.js';
import type { ZoneResolver } from '../legacy/zone.js';
import type { Demand, DemandSource } from './capacity.js';

/**
 * The fewest bytes a legacy dump entry takes (`"t":{"login":"a","password":"","exp":"…19 chars…"}`
 * is 59): the file size over it bounds the number of tokens without reading the file.
 */
const MIN_LEGACY_ENTRY_BYTES = 50;
/** The fewest bytes of a JSONL record line (`{"key":"s:x","value":1,"expiresAt":1}` is 38). */
const MIN_JSONL_LINE_BYTES = 30;
const KEYS_PER_BATCH = 2000;

/** The capacity side of a legacy dump: each live, valid, first-seen entry is one token. */
export function legacyDemand(
  path: string,
  fileSize: number,
  zone: ZoneResolver,
  target: TokenCache,
): DemandSource {
  return {
    bound: async () => ({ tokens: Math.ceil(fileSize / MIN_LEGACY_ENTRY_BYTES), sessions: 0 }),
    async *keys() {
      const seen = new DigestSet();
      let batch: string[] = [];
      for await (const items of readLegacyDump(path)) {
        const now = Date.now();
        for (const item of items) {
          if (item.kind !== 'entry') continue;
          const raw = item.entry;
          if (raw.token.length === 0 || !seen.add(`${raw.position.section}\0${raw.token}`)) continue;
          const check = checkLegacyEntry(raw, zone);
          if (!check.ok || check.entry.expiresAt <= now) continue;
          batch.push(`${check.entry.kind === 'access' ? 'at' : 'rt'}:${target.digest(raw.token)}`);
          if (batch.length >= KEYS_PER_BATCH) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield batch;
    },
  };
}

/** The capacity side of a JSONL export: its live records' keys (each key once). */
export function jsonlDemand(path: string, fileSize: number): DemandSource {
  const bound = Math.ceil(fileSize / MIN_JSONL_LINE_BYTES);
  return {
    bound: async () => ({ tokens: bound, sessions: bound }),
    async *keys() {
      const seen = new DigestSet();
      for await (const items of readJsonl(path)) {
        const now = Date.now();
        const keys: string[] = [];
        for (const item of items) {
          if (item.kind === 'record' && item.record.expiresAt > now && seen.add(item.record.key)) {
            keys.push(item.record.key);
          }
        }
        if (keys.length > 0) yield keys;
      }
    },
  };
}

/** The capacity side of another store: its indexes count what it holds. */
export function storeDemand(source: TokenCache): DemandSource {
  return {
    async bound(): Promise<Demand> {
      const now = Date.now();
      return {
        tokens: await source.store.indexCount(source.key('ix:tokens'), now),
        sessions: await source.store.indexCount(source.key('ix:sessions'), now),
      };
    },
    async *keys() {
      let batch: string[] = [];
      for await (const record of source.exportRecords()) {
        batch.push(record.key);
        if (batch.length >= KEYS_PER_BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
  };
}
