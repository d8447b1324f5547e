import type { BulkLoadInfo, TokenCache } from '@oauth-cache/core';
import { DigestSet } from '@oauth-cache/keyv';
import { readJsonl } from '../jsonl/jsonl-source.js';
import { holdsNoRecord } from './empty-target.js';
import { type Located, RecordWriter, type RecordWriterOptions } from './record-writer.js';
import { type RunState, reportError } from './run-state.js';
import { processed } from './summary.js';

/** Sizes the run's batches for the target (and, inside a bulk load, for the way the store took it). */
export type SizeBatches = (load?: BulkLoadInfo) => void;

/**
 * Copy records from a JSONL export into `target` (null: dry run). Bad lines are reported by line
 * number and counted as errors.
 */
export async function migrateJsonl(
  path: string,
  target: TokenCache | null,
  state: RunState,
  sizeBatches: SizeBatches,
): Promise<void> {
  const file = { bytesRead: 0 };
  const records = jsonlRecords(path, file, state);
  await copyRecords(records, target, state, sizeBatches, {
    seen: target === null ? undefined : new DigestSet(),
    bytesRead: () => file.bytesRead,
  });
}

/**
 * Copy every live record of `source` into `target` as stored (same keys and secret: no re-sealing,
 * remaining TTLs kept because each record carries its absolute expiry).
 */
export async function migrateStore(
  source: TokenCache,
  target: TokenCache | null,
  state: RunState,
  sizeBatches: SizeBatches,
): Promise<void> {
  await copyRecords(storeRecords(source), target, state, sizeBatches, {
    seen: undefined,
    bytesRead: () => 0,
  });
}

async function* jsonlRecords(
  path: string,
  file: { bytesRead: number },
  state: RunState,
): AsyncGenerator<Located> {
  for await (const items of readJsonl(path, file)) {
    for (const item of items) {
      if (item.kind === 'error') reportError(state, `line ${item.line}`, item.reason);
      else yield { record: item.record, where: `line ${item.line}` };
    }
    state.progress?.update(file.bytesRead, processed(state.counts));
  }
}

async function* storeRecords(source: TokenCache): AsyncGenerator<Located> {
  let ordinal = 0;
  for await (const record of source.exportRecords()) {
    ordinal++;
    yield { record, where: `source record #${ordinal}` };
  }
}

/**
 * Write `records` into `target` inside the store's bulk load where it has one (SQLite stages an
 * empty target's batches and merges them in key order: 950k records from JSONL took 213 s written
 * in place, 43 s staged). A key the source repeats ends a staged load early: the load merges, and
 * the rest is written in place, the repeated record checked against what the load wrote.
 */
async function copyRecords(
  records: AsyncGenerator<Located>,
  target: TokenCache | null,
  state: RunState,
  sizeBatches: SizeBatches,
  source: Pick<RecordWriterOptions, 'seen' | 'bytesRead'>,
): Promise<void> {
  try {
    const targetEmpty = target !== null && (await holdsNoRecord(target));
    const writer = (deferred: boolean) =>
      new RecordWriter(target, state, { ...source, targetEmpty, deferred });
    let held: Located | undefined;
    if (target?.store.bulkLoad) {
      held = await target.store.bulkLoad((load) => {
        sizeBatches(load);
        return pump(writer(load.deferred), records, state);
      });
      if (held === undefined) return;
      sizeBatches();
    }
    await pump(writer(false), records, state, held);
  } finally {
    await records.return(undefined);
  }
}

/**
 * Feed `records` to `writer` (first `held`, a repeated record a staged load refused), then write
 * what is queued and wait for every batch, also when reading failed: what was read before the
 * failure still lands (a re-run is idempotent), then the failure is thrown. Resolves the record
 * the writer refused, if any.
 */
async function pump(
  writer: RecordWriter,
  records: AsyncGenerator<Located>,
  state: RunState,
  held?: Located,
): Promise<Located | undefined> {
  let refused: Located | undefined;
  let failure: { error: unknown } | undefined;
  try {
    if (held) await writer.addRepeated(held);
    while (!state.stop.requested) {
      const next = await records.next();
      if (next.done) break;
      if (!(await writer.add(next.value))) {
        refused = next.value;
        break;
      }
    }
  } catch (error) {
    failure = { error };
  }
  await writer.finish();
  if (failure) throw failure.error;
  return refused;
}
