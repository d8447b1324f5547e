import type { ProgressBar } from './progress.js';

/**
 * Where a command writes: results on stdout, problems (and the progress bar) on stderr. Problem
 * lines are printed above the progress bar so the bar stays on the last line.
 */
export class Reporter {
  progress: ProgressBar | undefined;

  constructor(
    readonly stdout: NodeJS.WritableStream,
    readonly stderr: NodeJS.WritableStream & { isTTY?: boolean },
  ) {}

  /** A problem line on stderr. */
  problem(line: string): void {
    this.progress?.clear();
    this.stderr.write(`${line}\n`);
    this.progress?.redraw();
  }

  /** A result line on stdout. */
  result(text: string): void {
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Whether a live progress bar makes sense (an interactive stderr). */
  get interactive(): boolean {
    return this.stderr.isTTY === true;
  }
}
