import { EXPORTED_RECORD_PREFIXES, type ImportOutcome, type TokenCache } from '@oauth-cache/core';
import type { DigestSet } from '@oauth-cache/keyv';
import type { RecordLine } from '../jsonl/jsonl-record.js';
import { TaskPool } from '../util/task-pool.js';
import { isEntryError } from './legacy-target.js';
import { type RunState, reportError } from './run-state.js';
import { type MigrationCounts, processed } from './summary.js';

/** A record with where it came from, for messages. */
export interface Located {
  record: RecordLine;
  where: string;
}

/** Key prefixes `importRecord` accepts (core exports these record kinds; indexes are rebuilt). */
const IMPORTABLE = EXPORTED_RECORD_PREFIXES;

/** How a {@link RecordWriter} writes. */
export interface RecordWriterOptions {
  /** Keys written so far in this run, where the source may repeat one (a store lists each once). */
  seen: DigestSet | undefined;
  /** The target held no record when the run started. */
  targetEmpty: boolean;
  /** Inside a staged bulk load: batches are readable only once the load ends. */
  deferred: boolean;
  /** Bytes of the source read so far, for the progress bar (0 for a store). */
  bytesRead: () => number;
}

/**
 * Writes the records of a JSONL file or another store into the target (null: dry run, counts
 * only) in batches, `state.batchesInFlight` of them at once, so the source is read while the store
 * writes. Batches written together never share a key: a key the source repeats starts a batch of
 * its own once every earlier batch has landed, and that batch is checked against the store, so the
 * copy with the later expiry wins. In a staged load the earlier copy cannot be read back until the
 * load ends, so there a repeated key is refused (`add` resolves false) and the caller ends the load.
 *
 * Into a target that held no record when the run started, batches of first-seen keys skip core's
 * presence read (`assumeAbsent`).
 */
export class RecordWriter {
  #batch: Located[] = [];
  readonly #writes: TaskPool;
  /** The pending batch holds a key written earlier in this run. */
  #repeats = false;

  constructor(
    private readonly target: TokenCache | null,
    private readonly state: RunState,
    private readonly options: RecordWriterOptions,
  ) {
    this.#writes = new TaskPool(state.batchesInFlight);
  }

  /**
   * Queue one record; writes a batch once it is full (waits while all slots are busy). Resolves
   * false, queuing nothing, for a repeated key inside a staged load.
   */
  async add(item: Located): Promise<boolean> {
    const seen = this.options.seen;
    const repeated = seen !== undefined && !seen.add(item.record.key);
    if (repeated && this.options.deferred) return false;
    if (repeated) await this.addRepeated(item);
    else {
      this.#batch.push(item);
      if (this.#batch.length >= this.state.batchSize) await this.#flush();
    }
    return true;
  }

  /** Queue a record whose key this run has written before (not inside a staged load). */
  async addRepeated(item: Located): Promise<void> {
    await this.#flush();
    await this.#writes.drain();
    this.#repeats = true;
    this.#batch.push(item);
  }

  /** Write what is queued and wait for every batch; throws the first failure. */
  async finish(): Promise<void> {
    try {
      await this.#flush();
    } finally {
      await this.#writes.drain();
    }
  }

  async #flush(): Promise<void> {
    const batch = this.#batch;
    if (batch.length === 0) return;
    const assumeAbsent = this.options.targetEmpty && !this.#repeats;
    this.#batch = [];
    this.#repeats = false;
    await this.#writes.add(async () => {
      await writeRecords(batch, this.target, this.state, assumeAbsent);
      this.state.progress?.update(this.options.bytesRead(), processed(this.state.counts));
    });
  }
}

async function writeRecords(
  batch: Located[],
  target: TokenCache | null,
  state: RunState,
  assumeAbsent: boolean,
): Promise<void> {
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
  let outcomes: ImportOutcome[] | undefined;
  try {
    outcomes = await target.importRecords(
      live.map((item) => item.record),
      { assumeAbsent },
    );
  } catch (error) {
    if (!isEntryError(error)) throw error;
  }
  if (outcomes) {
    outcomes.forEach((outcome, i) => {
      count(counts, live[i]!.record.key, outcome);
    });
    return;
  }
  await TaskPool.forEach(live, state.concurrency, async (item) => {
    let outcome: ImportOutcome;
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

function countMigrated(counts: MigrationCounts, key: string): void {
  if (key.startsWith('at:')) counts.migratedAccess++;
  else if (key.startsWith('rt:')) counts.migratedRefresh++;
  else counts.migratedOther++;
}

function count(counts: MigrationCounts, key: string, outcome: ImportOutcome): void {
  if (outcome === 'written') countMigrated(counts, key);
  else if (outcome === 'kept') counts.alreadyPresent++;
  else counts.skippedExpired++;
}

/** Messages name the record by position and kind, never by key (keys are digests, but no need). */
function describeKind(key: string): string {
  const kind = key.slice(0, key.indexOf(':') + 1);
  return kind ? `a ${kind} record` : 'a record';
}
