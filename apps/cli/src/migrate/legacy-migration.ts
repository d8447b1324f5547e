import { DigestSet } from '@oauth-cache/keyv';
import { readLegacyDump } from '../legacy/dump-source.js';
import { checkLegacyEntry, type LegacyEntry } from '../legacy/entry.js';
import { formatPosition, SECTION_KEYS } from '../legacy/position.js';
import type { ZoneResolver } from '../legacy/zone.js';
import { HandOff } from '../util/hand-off.js';
import { TaskPool } from '../util/task-pool.js';
import { isEntryError, type LegacyDecisions, type LegacyTarget } from './legacy-target.js';
import { type RunState, reportError, reportWarning } from './run-state.js';
import { processed } from './summary.js';

/**
 * Migrate a legacy dump: stream it, validate each entry, skip expired ones and duplicates, then write
 * batches of `batchSize` with `concurrency` writes in flight. `target` null = dry run (count only).
 * Throws `JsonSyntaxError` for malformed JSON and `StoreUnavailableError` when the target fails.
 */
export async function migrateLegacyDump(
  path: string,
  zone: ZoneResolver,
  target: LegacyTarget | null,
  state: RunState,
): Promise<void> {
  const { counts } = state;
  const seen = new DigestSet();
  const file = { bytesRead: 0 };
  let batch: LegacyEntry[] = [];
  const writes = new TaskPool(state.batchesInFlight);
  const sends = new HandOff();

  const flush = async (): Promise<void> => {
    const entries = batch;
    batch = [];
    if (entries.length === 0) return;
    // With one batch in flight nothing is prepared while the store writes: checking ahead would
    // only hold a second batch's lookups in memory.
    const ahead = state.batchesInFlight > 1 ? decide(entries, target) : undefined;
    await writes.add(async () => {
      await writeBatch(entries, await (ahead ?? decide(entries, target)), target, sends, state);
      state.progress?.update(file.bytesRead, processed(counts));
    });
  };

  let failure: { error: unknown } | undefined;
  try {
    for await (const items of readLegacyDump(path, file)) {
      const now = Date.now();
      // An index loop: in this async function a for-of allocated an iterator result per item.
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        if (item.kind === 'warning') {
          reportWarning(state, item.message);
          continue;
        }
        const raw = item.entry;
        const where = formatPosition(raw.position);
        if (raw.token.length > 0 && !seen.add(`${raw.position.section}\0${raw.token}`)) {
          reportError(
            state,
            where,
            `duplicate token: the same token appears earlier in ${SECTION_KEYS[raw.position.section]}`,
          );
          continue;
        }
        const check = checkLegacyEntry(raw, zone);
        if (!check.ok) {
          reportError(state, where, check.reasons.join('; '));
        } else if (check.entry.expiresAt <= now) {
          counts.skippedExpired++;
        } else {
          batch.push(check.entry);
          if (batch.length >= state.batchSize) await flush();
        }
      }
      state.progress?.update(file.bytesRead, processed(counts));
      if (state.stop.requested) break;
    }
  } catch (error) {
    // Malformed input: the entries read before the error are still written (re-running after
    // fixing the dump is idempotent), then the error stops the run.
    failure = { error };
  }
  try {
    await flush();
  } finally {
    await writes.drain();
  }
  if (failure) throw failure.error;
}

type Decided = { ok: LegacyDecisions } | { error: unknown };

/**
 * A batch's presence check, settled into a value. Sent as soon as the batch is read, before it
 * waits for a write slot: on one Redis connection the check would otherwise queue behind the
 * writes in flight, and the CLI would have nothing to prepare while they run. Reading ahead of
 * this run's own writes is safe: only what the target held before the run is looked at (the
 * reader drops repeated tokens).
 */
function decide(entries: LegacyEntry[], target: LegacyTarget | null): Promise<Decided> {
  if (target === null) return Promise.resolve({ ok: { actions: [], familyIds: [] } });
  // Settled into a value: a failure is thrown by the batch's write task, never left unhandled.
  return target.decide(entries).then(
    (ok) => ({ ok }),
    (error: unknown) => ({ error }),
  );
}

async function writeBatch(
  entries: LegacyEntry[],
  decided: Decided,
  target: LegacyTarget | null,
  sends: HandOff,
  state: RunState,
): Promise<void> {
  const { counts } = state;
  if (target === null) return countWritten(entries, state);
  if ('error' in decided) throw decided.error;
  const { actions, familyIds } = decided.ok;
  const toWrite: LegacyEntry[] = [];
  const families: string[] = [];
  const now = Date.now();
  entries.forEach((entry, i) => {
    const action = actions[i];
    if (action === 'present') counts.alreadyPresent++;
    else if (action === 'revoked') counts.skippedRevoked++;
    else if (entry.expiresAt <= now) counts.skippedExpired++;
    else {
      toWrite.push(entry);
      families.push(familyIds[i]!);
    }
  });
  if (toWrite.length === 0) return;
  if (target.bulk) {
    try {
      await sends.run(() => target.writeMany(toWrite, families));
      countWritten(toWrite, state);
      return;
    } catch (error) {
      // One bad input refuses the whole batch before anything is written: redo it entry by entry
      // below to name the bad ones and still write the others.
      if (!isEntryError(error)) throw error;
    }
  }
  await TaskPool.forEach(toWrite, state.concurrency, async (entry, i) => {
    try {
      await target.write(entry, families[i]);
    } catch (error) {
      // Bad input is this entry's problem; anything else (store down, I/O) stops the run.
      if (!isEntryError(error)) throw error;
      reportError(state, formatPosition(entry.position), `not written: ${error.message}`);
      return;
    }
    countWritten([entry], state);
  });
}

function countWritten(entries: readonly LegacyEntry[], state: RunState): void {
  for (const e of entries) {
    if (e.kind === 'access') state.counts.migratedAccess++;
    else state.counts.migratedRefresh++;
  }
}
