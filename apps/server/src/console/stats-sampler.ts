/**
 * Counts over time for the console's stats page: once a minute, read the `/metrics` registry (the
 * cache gauges and counters, and the server's response and login counters) and keep the last ~60
 * points. Values come from the registry, never from a second count, so the page and a Prometheus
 * scrape agree. Per instance, in memory: for longer history, scrape `/metrics`.
 */
import type { Registry } from 'prom-client';
import { HTTP_RESPONSES, LOGIN_ATTEMPTS } from './server-metrics.js';

/** One minute of one instance. Rates are per sampling interval (a minute). */
export interface StatsPoint {
  at: number;
  activeTokens: number | undefined;
  activeSessions: number | undefined;
  validations: number;
  /** Share of this interval's validations that found a live token, 0-100; undefined without any. */
  hitRate: number | undefined;
  logins: number;
  failedLogins: number;
  status401: number;
  status403: number;
  status503: number;
}

export const STATS_INTERVAL_MS = 60_000;
export const STATS_CAPACITY = 60;

type Totals = Omit<StatsPoint, 'at' | 'activeTokens' | 'activeSessions' | 'hitRate'> & { hits: number };

/** Samples `registry` every `intervalMs` into a ring of `capacity` points. */
export class StatsSampler {
  readonly #registry: Registry;
  readonly #intervalMs: number;
  readonly #capacity: number;
  readonly #points: StatsPoint[] = [];
  #previous: Totals | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(registry: Registry, options: { intervalMs?: number; capacity?: number } = {}) {
    this.#registry = registry;
    this.#intervalMs = options.intervalMs ?? STATS_INTERVAL_MS;
    this.#capacity = options.capacity ?? STATS_CAPACITY;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Take the baseline now and a point every interval. The timer is unref'd: it never keeps the process up. */
  start(): void {
    if (this.#timer) return;
    void this.sample().catch(() => undefined);
    this.#timer = setInterval(() => void this.sample().catch(() => undefined), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stop sampling (shutdown). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Points, oldest first. */
  points(): readonly StatsPoint[] {
    return this.#points;
  }

  /**
   * Read the registry once. The first call only sets the baseline; each later call records the
   * difference since the previous one.
   */
  async sample(now = Date.now()): Promise<StatsPoint | undefined> {
    const [tokens, sessions, operations, responses, logins] = await Promise.all([
      this.#values('cache_active_tokens'),
      this.#values('cache_active_sessions'),
      this.#values('cache_token_operations_total'),
      this.#values(HTTP_RESPONSES),
      this.#values(LOGIN_ATTEMPTS),
    ]);
    const sum = (values: MetricValue[], match: (labels: Labels) => boolean) =>
      values.reduce((total, v) => (match(v.labels) ? total + v.value : total), 0);
    const totals: Totals = {
      validations: sum(operations, (l) => l.operation === 'validate'),
      hits: sum(operations, (l) => l.operation === 'validate' && l.result === 'hit'),
      logins: sum(logins, (l) => l.result === 'ok'),
      failedLogins: sum(logins, (l) => l.result !== 'ok'),
      status401: sum(responses, (l) => l.status === '401'),
      status403: sum(responses, (l) => l.status === '403'),
      status503: sum(responses, (l) => l.status === '503'),
    };
    const previous = this.#previous;
    this.#previous = totals;
    if (!previous) return undefined;
    const delta = (name: keyof Totals) => Math.max(0, totals[name] - previous[name]);
    const validations = delta('validations');
    const point: StatsPoint = {
      at: now,
      activeTokens: tokens[0]?.value,
      activeSessions: sessions[0]?.value,
      validations,
      hitRate: validations > 0 ? Math.round((delta('hits') / validations) * 1000) / 10 : undefined,
      logins: delta('logins'),
      failedLogins: delta('failedLogins'),
      status401: delta('status401'),
      status403: delta('status403'),
      status503: delta('status503'),
    };
    this.#points.push(point);
    if (this.#points.length > this.#capacity) this.#points.splice(0, this.#points.length - this.#capacity);
    return point;
  }

  async #values(name: string): Promise<MetricValue[]> {
    const metric = this.#registry.getSingleMetric(name);
    if (!metric) return [];
    // Gauges read the store in their collect(): a store outage leaves them out of this point.
    const data = await metric.get();
    return data.values.map((v) => ({ value: v.value, labels: v.labels as Labels }));
  }
}

type Labels = Record<string, string | number | undefined>;
interface MetricValue {
  value: number;
  labels: Labels;
}
