/**
 * A bounded closed-loop load generator: `concurrency` workers each send one request at a time until
 * the request budget, the time budget or an external stop is reached. Every answer is kept as a
 * sample (times relative to the start), so a test can ask what happened before, during and after
 * a fault.
 */
import { HttpFailure, type HttpResponse } from './http.js';

/** One request's outcome. `status` 0 = no HTTP answer (`failure` says why). */
export interface Sample {
  /** Which request kind the caller sent (its own label). */
  label: string;
  /** ms since the load started. */
  startedAt: number;
  endedAt: number;
  status: number;
  retryAfter: string | undefined;
  failure: 'timeout' | 'network' | undefined;
}

/** One request the workers send: a label and how to send it. */
export interface LoadRequest {
  label: string;
  send(): Promise<HttpResponse>;
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  concurrency: number;
  /** Hard bound on requests sent. */
  maxRequests: number;
  /** Hard bound on duration. */
  maxDurationMs: number;
  /** Picks the next request (`i` counts from 0). */
  next(i: number): LoadRequest;
  /** Stops the load early when aborted. */
  signal?: AbortSignal;
}

/** A running load: its samples so far, and its end. */
export interface RunningLoad {
  /** `performance.now()` at the start (sample times are relative to it). */
  readonly origin: number;
  readonly samples: Sample[];
  /** ms since the start, on the samples' clock. */
  now(): number;
  /** Resolves when every worker has stopped. */
  readonly done: Promise<Sample[]>;
}

/** Start the load; it runs in the background until one of its bounds is reached. */
export function runLoad(options: LoadOptions): RunningLoad {
  const origin = performance.now();
  const now = () => performance.now() - origin;
  const samples: Sample[] = [];
  let sent = 0;
  const keepGoing = () =>
    sent < options.maxRequests && now() < options.maxDurationMs && !options.signal?.aborted;

  const worker = async () => {
    while (keepGoing()) {
      const request = options.next(sent++);
      const startedAt = now();
      try {
        const response = await request.send();
        const retryAfter = response.headers['retry-after'];
        samples.push({
          label: request.label,
          startedAt,
          endedAt: now(),
          status: response.status,
          retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
          failure: undefined,
        });
      } catch (error) {
        if (!(error instanceof HttpFailure)) throw error;
        samples.push({
          label: request.label,
          startedAt,
          endedAt: now(),
          status: 0,
          retryAfter: undefined,
          failure: error.kind,
        });
        // A refused connection fails in microseconds: do not spin.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency }, worker)).then(() => samples);
  return { origin, samples, now, done };
}

/** Count samples by `label:status` (status 0 shown as the failure kind). */
export function tally(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) {
    const key = `${s.label}:${s.status === 0 ? s.failure : s.status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Percentile (0..100) of `values` by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
