/**
 * The server's own counters, registered in the same prom-client registry as the cache metrics: they
 * are served on `/metrics` and read back by the console's stats sampler, so each thing is counted
 * once. The cache metrics know nothing of HTTP statuses or logins, hence these two.
 */
import type { Middleware } from 'koa';
import { Counter, type Registry } from 'prom-client';

export interface ServerMetrics {
  /** `http_responses_total{status}`: every answer by status code. */
  responses: Counter<'status'>;
  /** `login_attempts_total{result}`: login form outcomes (`ok`, `failed`, `limited`, `forbidden`). */
  logins: Counter<'result'>;
  /** Remove them from the registry. */
  close(): void;
}

export const HTTP_RESPONSES = 'http_responses_total';
export const LOGIN_ATTEMPTS = 'login_attempts_total';

export function createServerMetrics(registry: Registry): ServerMetrics {
  const registers = [registry];
  const responses = new Counter({
    name: HTTP_RESPONSES,
    help: 'HTTP responses by status code',
    labelNames: ['status'] as const,
    registers,
  });
  const logins = new Counter({
    name: LOGIN_ATTEMPTS,
    help: 'Login form outcomes by result',
    labelNames: ['result'] as const,
    registers,
  });
  return {
    responses,
    logins,
    close() {
      registry.removeSingleMetric(HTTP_RESPONSES);
      registry.removeSingleMetric(LOGIN_ATTEMPTS);
    },
  };
}

/** Counts every response's status (a thrown error counts as what the error handler answers). */
export function countResponses(metrics: ServerMetrics): Middleware {
  return async function countResponsesMiddleware(ctx, next) {
    try {
      await next();
    } finally {
      // Status codes are a small fixed set (100-599): a bounded label.
      const status = ctx.status >= 100 && ctx.status <= 599 ? ctx.status : 500;
      metrics.responses.inc({ status: String(status) });
    }
  };
}
