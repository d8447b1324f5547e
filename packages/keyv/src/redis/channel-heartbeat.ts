import { randomBytes } from 'node:crypto';
import type { ChangeWatcher } from '../change-watch.js';

/** A heartbeat as published on the invalidation channel (key lists are JSON arrays, this an object). */
interface HeartbeatMessage {
  hb: string;
  at: number;
}

/**
 * The Redis side of {@link ChangeWatch}: this store publishes `{"hb":<its id>,"at":<ms>}` on its
 * invalidation channel and hears it back on its own subscription. Redis delivers a channel's
 * messages to a subscriber in the order it received them, so hearing the heartbeat sent at `at`
 * proves every invalidation published before it has arrived: `settled(at)`.
 *
 * Only while the subscription has been up the whole time: messages published while it was down
 * are gone. Any event of the subscriber's connection after it was set up marks it unproven; the
 * first heartbeat heard after that (node-redis subscribes again on its own when it reconnects)
 * tells the watchers `lost` (what they hold may have missed a delete) and proves nothing itself;
 * the ones after it prove again.
 */
export class ChannelHeartbeat {
  readonly #id = randomBytes(12).toString('base64url');
  readonly #publish: (message: string) => Promise<unknown>;
  readonly #watchers = new Set<ChangeWatcher>();
  #timer: NodeJS.Timeout | undefined;
  #intervalMs = Number.POSITIVE_INFINITY;
  /** The subscription has been up since the watchers were last told `lost`. */
  #continuous = false;

  constructor(publish: (message: string) => Promise<unknown>) {
    this.#publish = publish;
  }

  /** Someone is watching (the subscription must stay up). */
  get watching(): boolean {
    return this.#watchers.size > 0;
  }

  /** Start telling `watcher`, with a heartbeat at least every `intervalMs`. */
  add(watcher: ChangeWatcher, intervalMs: number): void {
    this.#watchers.add(watcher);
    if (intervalMs < this.#intervalMs) {
      this.#intervalMs = Math.max(1, intervalMs);
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = setInterval(() => this.#beat(), this.#intervalMs);
      this.#timer.unref();
    }
    this.#beat();
  }

  remove(watcher: ChangeWatcher): void {
    this.#watchers.delete(watcher);
    if (this.#watchers.size === 0) this.stop();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#intervalMs = Number.POSITIVE_INFINITY;
  }

  /**
   * The subscription was just set up: nobody can hold anything read before it (the L1 subscribes
   * before it serves), so the next heartbeat proves.
   */
  subscribed(): void {
    this.#continuous = true;
  }

  /** The subscriber's connection dropped, reconnected or failed: nothing proven until heard again. */
  interrupted(): void {
    this.#continuous = false;
  }

  /**
   * A message of the channel that is not a key list. Heartbeats of other stores (other processes)
   * are ignored: their clocks are not ours.
   */
  heard(message: unknown): void {
    const m = message as Partial<HeartbeatMessage>;
    if (m === null || typeof m !== 'object' || m.hb !== this.#id || typeof m.at !== 'number') return;
    if (!this.#continuous) {
      this.#continuous = true;
      for (const watcher of this.#watchers) watcher.lost();
      return;
    }
    for (const watcher of this.#watchers) watcher.settled(m.at);
  }

  #beat(): void {
    const message: HeartbeatMessage = { hb: this.#id, at: Date.now() };
    // A heartbeat that cannot be sent proves nothing; the watchers fall back to their bound.
    this.#publish(JSON.stringify(message)).catch(() => undefined);
  }
}
