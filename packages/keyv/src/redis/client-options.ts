import type { ConnectionOptions } from 'node:tls';
import type { RedisClientOptions } from '@keyv/redis';

/** TLS settings for `rediss://` (e.g. a private CA). */
export type RedisTlsOptions = Pick<
  ConnectionOptions,
  'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'
>;

/** Timing knobs of the Redis connection. All in milliseconds. */
export interface RedisTimings {
  /** Deadline of every command, written or not. Default 1500. */
  commandTimeoutMs?: number;
  /** Deadline of a TCP/TLS connect (first connect and each reconnect attempt). Default 2000. */
  connectTimeoutMs?: number;
  /** Close a socket that has been silent this long (a frozen server), then reconnect. Default 3000. */
  socketTimeoutMs?: number;
  /** Send PING this often, so a dead peer is noticed without traffic. Default 1000. */
  pingIntervalMs?: number;
  /** Reconnect backoff ceiling: retries every 50, 100, 200 … ms up to this, forever. Default 1000. */
  maxReconnectDelayMs?: number;
}

/** The resolved timings. */
export type ResolvedTimings = Required<RedisTimings>;

export function resolveTimings(t: RedisTimings = {}): ResolvedTimings {
  return {
    commandTimeoutMs: t.commandTimeoutMs ?? 1500,
    connectTimeoutMs: t.connectTimeoutMs ?? 2000,
    socketTimeoutMs: t.socketTimeoutMs ?? 3000,
    pingIntervalMs: t.pingIntervalMs ?? 1000,
    maxReconnectDelayMs: t.maxReconnectDelayMs ?? 1000,
  };
}

/**
 * node-redis options for a client that fails fast and heals itself:
 * - `disableOfflineQueue`: while disconnected, commands are rejected at once instead of queued
 *   (the default queues them forever: every call hangs while Redis is down);
 * - a bounded exponential reconnect backoff that never gives up, so the same client recovers
 *   when Redis returns;
 * - connect/socket timeouts and a ping interval, so a silent peer is detected.
 */
export function redisClientOptions(
  url: string,
  timings: ResolvedTimings,
  tls?: RedisTlsOptions,
): RedisClientOptions {
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
