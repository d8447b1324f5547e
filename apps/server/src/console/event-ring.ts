/**
 * The recent security events the console's events page shows: a fixed-size ring in memory. Bounded
 * so a flood of refused logins costs constant memory; per instance and lost on restart, because the
 * log lines (same events, same fields) are the durable record.
 */

/** One event as the console shows it: ids, names and addresses, never a token or token id. */
export interface ConsoleEvent {
  at: number;
  type: string;
  level: 'info' | 'warn';
  /** The 1C login concerned, when known. */
  user?: string;
  clientId?: string;
  /** Network address of the client behind the request. */
  address?: string;
  /** Why (a fixed vocabulary of the emitter, or a short description). */
  reason?: string;
  /** Who acted, for operator revocations (`console@10.0.0.5`). */
  actor?: string;
  path?: string;
}

/** Default number of events kept. */
export const EVENT_RING_CAPACITY = 500;
const MAX_FIELD = 200;

/** Keeps the newest `capacity` events. */
export class EventRing {
  readonly #items: ConsoleEvent[] = [];
  readonly #capacity: number;
  #start = 0;

  constructor(capacity = EVENT_RING_CAPACITY) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Add an event, dropping the oldest when full. Long fields are clipped. */
  record(event: ConsoleEvent): void {
    const clipped = clip(event);
    if (this.#items.length < this.#capacity) {
      this.#items.push(clipped);
      return;
    }
    this.#items[this.#start] = clipped;
    this.#start = (this.#start + 1) % this.#capacity;
  }

  /** Events newest first, optionally only those whose type is in `types`. */
  list(types?: ReadonlySet<string>): ConsoleEvent[] {
    const out: ConsoleEvent[] = [];
    for (let i = this.#items.length - 1; i >= 0; i -= 1) {
      const event = this.#items[(this.#start + i) % this.#items.length];
      if (event && (!types || types.size === 0 || types.has(event.type))) out.push(event);
    }
    return out;
  }

  /** The distinct types currently held, sorted (the filter form's choices). */
  types(): string[] {
    return [...new Set(this.#items.map((e) => e.type))].sort();
  }

  get size(): number {
    return this.#items.length;
  }
}

function clip(event: ConsoleEvent): ConsoleEvent {
  const out: ConsoleEvent = { ...event };
  for (const name of ['type', 'user', 'clientId', 'address', 'reason', 'actor', 'path'] as const) {
    const value = out[name];
    if (typeof value === 'string' && value.length > MAX_FIELD) out[name] = `${value.slice(0, MAX_FIELD)}...`;
  }
  return out;
}
