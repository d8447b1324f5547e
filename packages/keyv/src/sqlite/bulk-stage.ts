/**
 * Bookkeeping of a staged bulk load (`SqliteBulkLoader.load`, behind `SqliteStore.bulkLoad`): how
 * many rows wait in the stage and how many have been merged, and when to merge.
 *
 * Why stage at all: token digests are random, so a bulk import written batch by batch inserts all
 * over B-trees far larger than the page cache, and every commit rewrites thousands of scattered
 * pages (at 300k tokens: ~45 s of SQLite time, mostly I/O). Appending to a heap and merging in
 * key order turns that into sequential page writes, and the secondary indexes are rebuilt with
 * one sort each (the same 300k tokens: ~12 s).
 *
 * Why merge more than once: rows in the stage are not readable and are lost if the process dies.
 * Merging whenever the stage holds three times the rows of the tables keeps at least a quarter of
 * a killed run's work, for about a third more merge work than one final merge (each merge rewrites
 * what the tables hold; merging at every doubling cost twice the final merge).
 */
export class BulkStage {
  /** Fewest staged rows worth a merge (about 1000 tokens). */
  static readonly MIN_MERGE_ROWS = 5000;
  /** A merge is due when the stage holds this many times the rows already merged. */
  static readonly GROWTH = 3;
  #staged = 0;
  #merged = 0;

  /**
   * `rollbackJournal`: the load switched the file from WAL to a rollback journal (see
   * `SqliteBulkLoader.load`), so its merges run without the WAL's bulk settings.
   */
  constructor(readonly rollbackJournal = false) {}

  /**
   * Whether a merge has run. Every merge of a load but its last leaves the secondary indexes
   * dropped, and the last ends the load: so while it runs, this says they are dropped.
   */
  get indexesDropped(): boolean {
    return this.#merged > 0;
  }

  /** Rows waiting in the stage. */
  get staged(): number {
    return this.#staged;
  }

  /** Count rows appended to the stage. */
  appended(rows: number): void {
    this.#staged += rows;
  }

  /** Whether the stage is due for a merge. */
  get due(): boolean {
    return this.#staged >= Math.max(BulkStage.MIN_MERGE_ROWS, BulkStage.GROWTH * this.#merged);
  }

  /** The stage was merged (and emptied). */
  mergedAll(): void {
    this.#merged += this.#staged;
    this.#staged = 0;
  }
}
