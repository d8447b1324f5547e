const MINUTE = 60_000;
const DAY = 86_400_000;
/** Bounded cache: a dump's expiries span about two weeks, i.e. about 20k distinct minutes. */
const MAX_CACHED_MINUTES = 100_000;

/**
 * Converts naive local times of an IANA time zone to epoch ms with `Intl` only (no tz database
 * dependency). Offsets are computed per UTC minute and cached: time zone transitions fall on whole
 * minutes, and `formatToParts` costs microseconds, too slow to call for every one of a million entries.
 */
export class ZoneResolver {
  readonly timeZone: string;
  private readonly format: Intl.DateTimeFormat | null;
  private readonly offsets = new Map<number, number>();

  /** Throws `RangeError` for an unknown time zone. */
  constructor(timeZone: string) {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    this.timeZone = format.resolvedOptions().timeZone;
    this.format = this.timeZone === 'UTC' || this.timeZone === 'Etc/UTC' ? null : format;
  }

  /** Offset of the zone from UTC at `epochMs`, in ms (positive east of Greenwich). */
  offsetAt(epochMs: number): number {
    if (this.format === null) return 0;
    const minute = Math.floor(epochMs / MINUTE);
    const cached = this.offsets.get(minute);
    if (cached !== undefined) return cached;
    const at = minute * MINUTE;
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let min = 0;
    let sec = 0;
    let bc = false;
    for (const part of this.format.formatToParts(at)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value);
          break;
        case 'minute':
          min = Number(part.value);
          break;
        case 'second':
          sec = Number(part.value);
          break;
        case 'era':
          bc = part.value.startsWith('B');
          break;
      }
    }
    const offset = utcFields(bc ? 1 - year : year, month, day, hour, min, sec, 0) - at;
    if (this.offsets.size >= MAX_CACHED_MINUTES) this.offsets.clear();
    this.offsets.set(minute, offset);
    return offset;
  }

  /**
   * Epoch ms of a wall-clock time (given as if it were UTC) in this zone. Ambiguous times (clocks
   * set back) take the earlier instant; times skipped by a forward jump are moved forward by the
   * jump, like Temporal's `disambiguation: "compatible"` and Python's `fold=0`.
   */
  wallToEpoch(wallMs: number): number {
    if (this.format === null) return wallMs;
    const before = this.offsetAt(wallMs - DAY);
    const after = this.offsetAt(wallMs + DAY);
    let best: number | undefined;
    for (const offset of before === after ? [before] : [before, after]) {
      const candidate = wallMs - offset;
      if (this.offsetAt(candidate) === offset && (best === undefined || candidate < best)) best = candidate;
    }
    return best ?? wallMs - before;
  }
}

/** `Date.UTC` that also handles years 0-99 literally (Date.UTC maps them to 1900-1999). */
export function utcFields(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  d.setUTCFullYear(year);
  return d.getTime();
}
