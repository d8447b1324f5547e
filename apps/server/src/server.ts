/**
 * `startServer(config)`: open the store, build the cache, the authorization server and the app,
 * listen, and stop gracefully.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ClientMetadataFetchOptions,
  checkOneCCredentials,
  createAuthorizationServer,
  mcpResourceOf,
} from '@oauth-cache/authorization-server';
import { type CacheStore, createTokenCache } from '@oauth-cache/core';
import { createStore } from '@oauth-cache/keyv';
import { attachSecurityLog, attachStoreErrorLog, createCacheMetrics, createLogger } from '@oauth-cache/koa';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import type { ServerConfig } from './config/server-config.js';
import { createOperatorConsole } from './console/operator-console.js';
import { isLoopbackAddress, requestOriginRules } from './http/request-origin-rules.js';
import { OneCRpcClient } from './mcp/onec-rpc.js';

/** Options of {@link startServer} beyond the configuration. */
export interface StartServerOptions {
  /** Logger (default: pino on stdout at `config.logLevel`). */
  logger?: Logger;
  /** A store to use instead of opening `config.storeUrl` (closed by `close()` all the same). */
  store?: CacheStore;
  /**
   * TESTS ONLY: options of the client ID metadata document fetch (e.g. `allowLoopback`,
   * `resolveHost` and `ca` to fetch documents from a local https server). There is deliberately no
   * environment variable for this: in production the fetch never reaches loopback or private
   * addresses and uses the system's trust store.
   */
  clientMetadataFetch?: ClientMetadataFetchOptions;
  /** Sampling interval of the operator console's stats page (default 60 000 ms; tests use less). */
  consoleStatsIntervalMs?: number;
}

/** A running server. */
export interface RunningServer {
  /** The bound origin, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** The public origin (issuer). */
  publicUrl: string;
  /** Stop accepting, let in-flight requests finish (up to `shutdownGraceMs`), close the store. */
  close(): Promise<void>;
  /** The underlying HTTP server. */
  server: Server;
}

/** Largest header block (request line + headers) accepted; larger gets Node's 431. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** Start the gateway. Throws ConfigError / StoreUnavailableError when the store cannot be opened. */
export async function startServer(
  config: ServerConfig,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'oauth-cache-server' });
  const store =
    options.store ??
    (await createStore(config.storeUrl, {
      prefix: config.cache.prefix,
      ...(config.l1 ? { l1: config.l1 } : {}),
    }));
  const cache = createTokenCache({ config: config.cache, store });
  const detachSecurityLog = attachSecurityLog(cache, logger);
  const metrics = createCacheMetrics({ cache });
  // Store failures with their cause (connection refused, SQLITE_FULL...), one line per 5 s at most:
  // clients only see 503s, the operator needs to know why.
  const detachStoreErrorLog = attachStoreErrorLog(cache, logger);
  // The console's event ring and per-minute stats exist whether or not the console is reachable
  // (it is mounted only with a status token); the sampler's timer is unref'd and stopped on close.
  const operatorConsole = createOperatorConsole({
    cache,
    registry: metrics.registry,
    logger,
    ...(options.consoleStatsIntervalMs ? { statsIntervalMs: options.consoleStatsIntervalMs } : {}),
  });

  const server = createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeout: 120_000,
    headersTimeout: 20_000,
    keepAliveTimeout: 5_000,
  });
  server.maxHeadersCount = 100;
  // Beyond this, new connections are closed at once: a flood of idle or slow connections cannot
  // exhaust file descriptors and memory (MCP_MAX_CONNECTIONS).
  server.maxConnections = config.maxConnections;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    operatorConsole.close();
    metrics.close();
    detachSecurityLog();
    detachStoreErrorLog();
    await cache.close().catch(() => undefined);
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  // Port 0 (tests) without MCP_PUBLIC_URL: the public URL is only known once bound.
  const publicUrl = config.port === 0 && config.publicUrlIsDefault ? url : config.publicUrl;

  const as = createAuthorizationServer({
    cache,
    issuer: publicUrl,
    resource: mcpResourceOf(publicUrl),
    codeTtl: config.codeTtl,
    accessTtl: config.accessTtl,
    refreshTtl: config.refreshTtl,
    loginRateLimit: config.loginRateLimit,
    resourceName: '1C MCP gateway',
    legacyClientIds: config.legacyClientIds,
    ...(options.clientMetadataFetch ? { clientMetadataFetch: options.clientMetadataFetch } : {}),
    redirectPolicy: config.redirectPolicy,
    formTokenTtlMs: config.loginFormTtlSeconds * 1000,
  });
  const onec = new OneCRpcClient({
    serviceUrl: config.onecServiceUrl,
    timeoutMs: config.onecRpcTimeoutMs,
    onFailure: (reason) => logger.warn({ event: 'onec_unavailable', reason }, '1C call failed'),
  });
  const app = createApp({
    as,
    cache,
    metrics,
    onec,
    logger,
    statusToken: config.statusToken,
    trustProxy: config.trustProxy,
    trustedProxyHops: config.trustedProxyHops,
    registrationsPerHour: config.registrationsPerHour,
    operatorConsole,
    originRules: requestOriginRules({
      publicUrl,
      allowedHosts: config.allowedHosts,
      allowedOrigins: config.allowedOrigins,
      // Listening on loopback: local clients may name it 127.0.0.1, localhost or [::1].
      ...(isLoopbackAddress(address.address) ? { loopbackPort: address.port } : {}),
    }),
    checkCredentials: (login, password) =>
      checkOneCCredentials(config.onecServiceUrl, login, password, {
        timeoutMs: config.onecTimeoutMs,
        onUnavailable: (reason) =>
          logger.warn({ event: 'onec_unavailable', reason }, '1C credential check failed'),
      }),
  });
  server.on('request', app.callback());

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await stopAccepting(server, config.shutdownGraceMs);
      operatorConsole.close();
      metrics.close();
      detachSecurityLog();
      detachStoreErrorLog();
      await cache.close();
    })();
    return closing;
  };
  return { url, publicUrl, close, server };
}

/**
 * `server.close()` stops accepting; idle keep-alive sockets are closed at once and again as they
 * become idle; after `graceMs` the remaining connections are cut.
 */
async function stopAccepting(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweeper = setInterval(() => server.closeIdleConnections(), 50);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, graceMs);
  });
  await Promise.race([closed, deadline]);
  clearInterval(sweeper);
  clearTimeout(timer);
  server.closeAllConnections();
}
