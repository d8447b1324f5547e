import type { ProgressBar } from '../cli/progress.js';
import type { Reporter } from '../cli/reporter.js';
import type { MigrationCounts } from './summary.js';

/** Shared state of one migration run. */
export interface RunState {
  counts: MigrationCounts;
  reporter: Reporter;
  progress: ProgressBar | undefined;
  /** Set by SIGINT/SIGTERM: stop after the batch in flight. */
  stop: { requested: boolean };
  batchSize: number;
  /** Writes in flight inside a batch when entries are written one by one. */
  concurrency: number;
  /** Batches written at the same time (the next batch is read and checked while one is written). */
  batchesInFlight: number;
}

/** Count and print one bad entry (position and reason, never the entry's content). */
export function reportError(state: RunState, where: string, reason: string): void {
  state.counts.errors++;
  state.reporter.problem(`error: ${where}: ${reason}`);
}

/** Count and print a warning (does not count against --max-errors). */
export function reportWarning(state: RunState, message: string): void {
  state.counts.warnings++;
  state.reporter.problem(`warning: ${message}`);
}
