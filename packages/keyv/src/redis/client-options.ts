import type { ConnectionOptions } from 'node:tls';
import type { RedisClientOptions } from '@redis/client';

/** TLS settings for `rediss://` (e.g. a private CA). */
export type RedisTlsOptions = Pick<
  ConnectionOptions,
  'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'
>;

/** Timing of the Redis connection that callers may set. */
export interface RedisTimings {
  /** Deadline of every command, written or not, in ms. Default 1500. */
  commandTimeoutMs?: number;
}

/** The connection's fixed timings, in ms. */
const CONNECTION_TIMINGS = {
  /** Deadline of a TCP/TLS connect (first connect and each reconnect attempt). */
  connectTimeoutMs: 2000,
  /** Close a socket that has been silent this long (a frozen server), then reconnect. */
  socketTimeoutMs: 3000,
  /** Send PING this often, so a dead peer is noticed without traffic. */
  pingIntervalMs: 1000,
  /** Reconnect backoff ceiling: retries every 50, 100, 200 … ms up to this, forever. */
  maxReconnectDelayMs: 1000,
} as const;

/** Every timing of the connection, in ms. */
export type ResolvedTimings = Required<RedisTimings> & typeof CONNECTION_TIMINGS;

export function resolveTimings(t: RedisTimings = {}): ResolvedTimings {
  return { ...CONNECTION_TIMINGS, commandTimeoutMs: t.commandTimeoutMs ?? 1500 };
}

/**
 * node-redis options for a client that fails fast and heals itself:
 * - `disableOfflineQueue`: while disconnected, commands are rejected at once instead of queued
 *   (the default queues them forever: every call hangs while Redis is down);
 * - a bounded exponential reconnect backoff that never gives up, so the same client recovers
 *   when Redis returns;
 * - connect/socket timeouts and a ping interval, so a silent peer is detected.
 *
 * No `RESP`: the client speaks node-redis' default (RESP2), which the store's replies and the
 * `@keyv/redis` adapter expect.
 */
export function redisClientOptions(
  url: string,
  timings: ResolvedTimings,
  tls?: RedisTlsOptions,
): Omit<RedisClientOptions, 'RESP'> {
  return {
    url,
    disableOfflineQueue: true,
    pingInterval: timings.pingIntervalMs,
    socket: {
      // node-redis turns TLS on for `rediss://` itself; these only add trust settings.
      ...(tls && url.startsWith('rediss:') ? tls : {}),
      connectTimeout: timings.connectTimeoutMs,
      socketTimeout: timings.socketTimeoutMs,
      reconnectStrategy: (retries: number) =>
        Math.min(timings.maxReconnectDelayMs, 50 * 2 ** Math.min(retries, 10)) +
        Math.floor(Math.random() * 50),
    },
  };
}
