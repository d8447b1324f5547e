const REDRAW_MS = 100;
const BAR_WIDTH = 24;

/**
 * One-line progress bar with rate and ETA, redrawn in place on a TTY. Hand-rolled (about 60 lines)
 * rather than `cli-progress`: the CLI needs one bar, a rate and an ETA, and a way to print error
 * lines above the bar; a dependency would add more surface than it saves.
 */
export class ProgressBar {
  private readonly startedAt = Date.now();
  private lastDraw = 0;
  private done = 0;
  private items = 0;
  private visible = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly label: string,
    /** Work total in the unit of `done` (bytes of the input file), when known. */
    private readonly total: number | undefined,
    private readonly itemName = 'entries',
  ) {}

  /** Report progress: `done` in the unit of `total`, `items` processed so far. */
  update(done: number, items: number): void {
    this.done = done;
    this.items = items;
    const now = Date.now();
    if (now - this.lastDraw >= REDRAW_MS) {
      this.lastDraw = now;
      this.draw(now);
    }
  }

  /** Erase the bar (before printing another line). */
  clear(): void {
    if (this.visible) this.out.write('\r\x1b[2K');
    this.visible = false;
  }

  /** Draw the bar again after `clear`. */
  redraw(): void {
    this.draw(Date.now());
  }

  /** Final state: draw once more and end the line. */
  finish(): void {
    this.draw(Date.now());
    this.out.write('\n');
    this.visible = false;
  }

  private draw(now: number): void {
    this.out.write(
      `\r\x1b[2K${formatProgress(this.label, this.done, this.items, this.total, now - this.startedAt, this.itemName)}`,
    );
    this.visible = true;
  }
}

/** The bar's text, e.g. `migrate [######----]  60% 600,000 entries 35,000/s ETA 0:11`. */
export function formatProgress(
  label: string,
  done: number,
  items: number,
  total: number | undefined,
  elapsedMs: number,
  itemName = 'entries',
): string {
  const seconds = Math.max(elapsedMs / 1000, 0.001);
  const rate = `${Math.round(items / seconds).toLocaleString('en-US')}/s`;
  const count = `${items.toLocaleString('en-US')} ${itemName}`;
  if (!total || total <= 0) return `${label} ${count} ${rate}`;
  const ratio = Math.min(1, done / total);
  const filled = Math.round(ratio * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  const eta = ratio > 0 ? formatDuration((seconds * (1 - ratio)) / ratio) : '?';
  return `${label} ${bar} ${percent} ${count} ${rate} ETA ${eta}`;
}

/** `m:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
