import type { TokenCache } from '@oauth-cache/core';
import type { RecordLine } from '../jsonl/jsonl-record.js';
import { readJsonl } from '../jsonl/jsonl-source.js';
import { forEachLimit } from '../util/for-each-limit.js';
import { isEntryError } from './legacy-target.js';
import { type RunState, reportError } from './run-state.js';
import { type MigrationCounts, processed } from './summary.js';

/** A record with where it came from, for messages. */
interface Located {
  record: RecordLine;
  where: string;
}

/** Key prefixes `importRecord` accepts (core exports these record kinds; indexes are rebuilt). */
const IMPORTABLE = ['at:', 'rt:', 'rc:', 'fr:', 's:', 'x:'];

function countMigrated(counts: MigrationCounts, key: string): void {
  if (key.startsWith('at:')) counts.migratedAccess++;
  else if (key.startsWith('rt:')) counts.migratedRefresh++;
  else counts.migratedOther++;
}

function count(counts: MigrationCounts, key: string, outcome: 'written' | 'kept' | 'expired'): void {
  if (outcome === 'written') countMigrated(counts, key);
  else if (outcome === 'kept') counts.alreadyPresent++;
  else counts.skippedExpired++;
}

/** Messages name the record by position and kind, never by key (keys are digests, but no need). */
function describeKind(key: string): string {
  const kind = key.slice(0, key.indexOf(':') + 1);
  return kind ? `a ${kind} record` : 'a record';
}

async function writeRecords(batch: Located[], target: TokenCache | null, state: RunState): Promise<void> {
  const { counts } = state;
  const now = Date.now();
  const live: Located[] = [];
  for (const item of batch) {
    if (!IMPORTABLE.some((p) => item.record.key.startsWith(p))) {
      reportError(state, item.where, `unknown record key kind (expected one of ${IMPORTABLE.join(' ')})`);
    } else if (item.record.expiresAt <= now) counts.skippedExpired++;
    else live.push(item);
  }
  if (target === null) {
    for (const item of live) countMigrated(counts, item.record.key);
    return;
  }
  // The whole batch in one store transaction/pipeline; only when a record in it is refused is the
  // batch replayed one record at a time, to name the bad one and still import the others.
  let outcomes: Array<'written' | 'kept' | 'expired'> | undefined;
  try {
    outcomes = await target.importRecords(live.map((item) => item.record));
  } catch (error) {
    if (!isEntryError(error)) throw error;
  }
  if (outcomes) {
    outcomes.forEach((outcome, i) => {
      count(counts, live[i]!.record.key, outcome);
    });
    return;
  }
  await forEachLimit(live, state.concurrency, async (item) => {
    let outcome: 'written' | 'kept' | 'expired';
    try {
      outcome = await target.importRecord(item.record);
    } catch (error) {
      if (!isEntryError(error)) throw error;
      reportError(state, item.where, `${describeKind(item.record.key)} not imported: ${error.message}`);
      return;
    }
    count(counts, item.record.key, outcome);
  });
}

/**
 * Copy records from a JSONL export into `target` (null: dry run). Bad lines are reported by line
 * number and counted as errors.
 */
export async function migrateJsonl(path: string, target: TokenCache | null, state: RunState): Promise<void> {
  const file = { bytesRead: 0 };
  let batch: Located[] = [];
  for await (const items of readJsonl(path, file)) {
    for (const item of items) {
      if (item.kind === 'error') {
        reportError(state, `line ${item.line}`, item.reason);
        continue;
      }
      batch.push({ record: item.record, where: `line ${item.line}` });
      if (batch.length >= state.batchSize) {
        await writeRecords(batch, target, state);
        batch = [];
        state.progress?.update(file.bytesRead, processed(state.counts));
      }
    }
    state.progress?.update(file.bytesRead, processed(state.counts));
    if (state.stop.requested) break;
  }
  await writeRecords(batch, target, state);
}

/**
 * Copy every live record of `source` into `target` as stored (same keys and secret: no re-sealing,
 * remaining TTLs kept because each record carries its absolute expiry).
 */
export async function migrateStore(
  source: TokenCache,
  target: TokenCache | null,
  state: RunState,
): Promise<void> {
  let batch: Located[] = [];
  let ordinal = 0;
  for await (const record of source.exportRecords()) {
    ordinal++;
    batch.push({ record, where: `source record #${ordinal}` });
    if (batch.length >= state.batchSize) {
      await writeRecords(batch, target, state);
      batch = [];
      state.progress?.update(0, processed(state.counts));
      if (state.stop.requested) return;
    }
  }
  await writeRecords(batch, target, state);
}
