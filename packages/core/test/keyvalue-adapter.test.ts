import { runConformanceSuite, runStoreSuite } from '../src/conformance/index.js';
import { adaptKeyValueStore, type KeyValueStore } from '../src/index.js';

/** The smallest Keyv-shaped store: a Map with TTLs, as a user might pass a plain Keyv. */
function mapStore(): KeyValueStore & { iterator: () => AsyncIterable<[string, unknown]> } {
  const map = new Map<string, { v: unknown; exp: number | undefined }>();
  const live = (k: string) => {
    const e = map.get(k);
    if (e && e.exp !== undefined && e.exp <= Date.now()) map.delete(k);
    return map.get(k);
  };
  return {
    async get(k) {
      return structuredClone(live(k)?.v);
    },
    async set(k, v, ttl) {
      map.set(k, { v: structuredClone(v), exp: ttl ? Date.now() + ttl : undefined });
      return true;
    },
    async delete(k) {
      return map.delete(k);
    },
    async *iterator() {
      for (const k of [...map.keys()]) {
        const e = live(k);
        if (e) yield [k, structuredClone(e.v)];
      }
    },
  };
}

const open = async () => adaptKeyValueStore(mapStore());

// Built from get/set/delete: no lock or batch writes, TTLs passed through to the key-value store,
// expiry left to it (sweep removes nothing), and the Map behind it has nothing to close.
runStoreSuite({
  name: 'plain key-value (Keyv-shaped) through adaptKeyValueStore',
  open,
  capabilities: {
    lock: false,
    writeBatch: false,
    bulkLoad: false,
    sweepCountsRecords: false,
    sweepDropsDeadMembers: false,
    refusesNonFiniteTtl: false,
    rejectsAfterClose: false,
  },
});
runConformanceSuite({ name: 'plain key-value (Keyv-shaped) through adaptKeyValueStore', createStore: open });
