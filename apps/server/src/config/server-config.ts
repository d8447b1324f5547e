/**
 * The server's resolved configuration: its own variables (see `env-schema.ts`) plus core's cache
 * configuration, with development secrets filled in outside production.
 */
import { isAbsolute, resolve } from 'node:path';
import { defaultPublicUrl, legacyClientIdsFromEnv } from '@oauth-cache/authorization-server';
import { type CacheConfig, ConfigError, configFromEnv } from '@oauth-cache/core';
import type { HostPattern } from '../http/request-origin-rules.js';
import { loadOrCreateDevSecrets } from './dev-secrets.js';
import { serverEnvSchema } from './env-schema.js';

/** Everything `startServer` needs. Lifetimes in seconds unless named `Ms`. */
export interface ServerConfig {
  host: string;
  port: number;
  /** Public origin clients see (issuer), no trailing slash. */
  publicUrl: string;
  /** True when MCP_PUBLIC_URL was not set (derived from MCP_HOST and MCP_PORT). */
  publicUrlIsDefault: boolean;
  /** `{MCP_ONEC_URL}/hs/{MCP_ONEC_SERVICE_ROOT}`: append `/health`, `/rpc`. */
  onecServiceUrl: string;
  codeTtl: number;
  accessTtl: number;
  refreshTtl: number;
  /** OAUTH_CACHE_STORE URL (`sqlite://...`, `redis://...`, `memory://`). */
  storeUrl: string;
  /** In-process L1 read cache of access tokens (OAUTH_CACHE_L1_MAX entries; 0 = off). */
  l1: { max: number; maxStaleMs: number } | false;
  statusToken: string | undefined;
  logLevel: string;
  shutdownGraceMs: number;
  /** Timeout of the 1C credential check (`/health`). */
  onecTimeoutMs: number;
  /** Timeout of a forwarded MCP call (`/rpc`). */
  onecRpcTimeoutMs: number;
  /** Take the client IP from X-Forwarded-For (only behind a reverse proxy you control). */
  trustProxy: boolean;
  /**
   * With `trustProxy`: how many proxies append to X-Forwarded-For; the client IP is the entry that
   * many places from the right (default 1: the address the nearest proxy saw).
   */
  trustedProxyHops: number;
  loginRateLimit: {
    maxFailuresPerUser: number;
    maxFailuresPerIp: number;
    /** Successful logins per user name per window (each one issues a grant). */
    maxSuccessesPerUser: number;
    windowMs: number;
  };
  /** Dynamic client registrations accepted per client IP per hour. */
  registrationsPerHour: number;
  /** Open connections the server accepts at once (MCP_MAX_CONNECTIONS, default 1000); more are dropped. */
  maxConnections: number;
  /**
   * Redirect host policy (MCP_REDIRECT_POLICY, MCP_ALLOWED_REDIRECT_HOSTS): listed hosts are vouched
   * for; others get a warning on the login page (`warn`) or are refused (`enforce`).
   */
  redirectPolicy: { mode: 'warn' | 'enforce'; allowedHosts: string[] };
  /**
   * DNS rebinding protection: `Host` headers accepted on `/mcp` and the OAuth endpoints besides the
   * public URL's host (MCP_ALLOWED_HOSTS; port `undefined` = any port).
   */
  allowedHosts: HostPattern[];
  /** Page origins allowed to call `/mcp` besides the public origin (MCP_ALLOWED_ORIGINS), normalized. */
  allowedOrigins: string[];
  /** Lifetime of a login form (its signed token), MCP_LOGIN_FORM_TTL_SECONDS, default 600. */
  loginFormTtlSeconds: number;
  /**
   * Client ids of families migrated from the Python server (`MCP_LEGACY_CLIENT_ID`, default
   * `mcp-public-client`): accepted for refresh only.
   */
  legacyClientIds: string[];
  /** Folder for the default SQLite file and generated development secrets. */
  dataDir: string;
  /** Core's configuration (environment, security level, keys, limits). */
  cache: CacheConfig;
}

/** A configuration plus things worth logging once the logger exists. */
export interface LoadedConfig {
  config: ServerConfig;
  /** Warnings (never containing secrets). */
  warnings: string[];
}

/**
 * Build the configuration from environment variables. Throws {@link ConfigError} listing every
 * problem, each naming its variable. `cwd` resolves relative paths (default `process.cwd()`).
 */
export function loadServerConfig(
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): LoadedConfig {
  const issues: string[] = [];
  const warnings: string[] = [];
  const parsed = serverEnvSchema.safeParse(env);
  if (!parsed.success) issues.push(...parsed.error.issues.map((i) => i.message));

  const environment = (env.ENVIRONMENT?.trim().toLowerCase() || 'development') as string;
  const dataDir = resolvePath(env.OAUTH_CACHE_DATA_DIR?.trim() || './data', cwd);

  const e = parsed.success ? parsed.data : undefined;
  if (!env.MCP_ONEC_URL?.trim()) {
    issues.push(
      'MCP_ONEC_URL: required, the base URL of the 1C publication, e.g. http://1c.local/base (for a demo against the 1C emulator: pnpm --filter @oauth-cache/server dev:emulator)',
    );
  }

  // Secrets: required in production, generated and kept in the data folder otherwise.
  const overrides: Record<string, string> = {};
  const missing = ['OAUTH_CACHE_SECRET', 'OAUTH_CACHE_ENCRYPTION_KEYS'].filter((name) => !env[name]?.trim());
  if (missing.length > 0) {
    if (environment === 'production') {
      for (const name of missing) {
        issues.push(
          `${name}: required when ENVIRONMENT=production (generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))")`,
        );
      }
    } else if (['development', 'test'].includes(environment) && issues.length === 0) {
      // Only once the rest is valid: a typo elsewhere must not leave a secrets file behind.
      try {
        const { secrets, created, path } = loadOrCreateDevSecrets(dataDir);
        if (!env.OAUTH_CACHE_SECRET?.trim()) overrides.OAUTH_CACHE_SECRET = secrets.secret;
        if (!env.OAUTH_CACHE_ENCRYPTION_KEYS?.trim())
          overrides.OAUTH_CACHE_ENCRYPTION_KEYS = secrets.encryptionKeys;
        warnings.push(
          `${missing.join(' and ')} not set: using development secrets ${created ? 'generated now in' : 'from'} ${path} (ENVIRONMENT=${environment}; set them explicitly in production)`,
        );
      } catch (error) {
        if (error instanceof ConfigError) issues.push(...error.issues);
        else
          issues.push(
            `OAUTH_CACHE_DATA_DIR: cannot create development secrets in ${dataDir} (${(error as Error).message})`,
          );
      }
    }
  }

  // Without it /cache/status and /metrics would answer anyone: counts of users, tokens and
  // failures are reconnaissance an attacker should not get from a production server.
  if (environment === 'production' && !env.OAUTH_CACHE_STATUS_TOKEN?.trim()) {
    issues.push(
      "OAUTH_CACHE_STATUS_TOKEN: required when ENVIRONMENT=production (it protects /cache/status and /metrics; generate one with: node -e \"console.log(require('crypto').randomBytes(24).toString('base64url'))\")",
    );
  }

  let cache: CacheConfig | undefined;
  try {
    cache = configFromEnv({ ...env, ...overrides });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
  }
  if (cache && cache.securityLevel === 'basic') {
    issues.push(
      'SECURITY_LEVEL: "basic" would keep 1C passwords unencrypted in the store; use enhanced or maximum',
    );
  }

  if (issues.length > 0 || !e || !cache || !e.MCP_ONEC_URL) throw new ConfigError(issues);

  const publicUrl = e.MCP_PUBLIC_URL ?? defaultPublicUrl(e.MCP_HOST, e.MCP_PORT);
  if (e.MCP_PUBLIC_URL === undefined && ['0.0.0.0', '::'].includes(e.MCP_HOST)) {
    warnings.push(
      `MCP_PUBLIC_URL not set while listening on ${e.MCP_HOST}: clients will be told ${publicUrl} and /mcp answers only that host (and MCP_ALLOWED_HOSTS); set MCP_PUBLIC_URL to the address clients use`,
    );
  }
  if (environment === 'production' && publicUrl.startsWith('http://') && !isLoopbackOrigin(publicUrl)) {
    warnings.push(
      'MCP_PUBLIC_URL uses http on a non-loopback host: MCP clients expect https for authorization',
    );
  }
  if (!e.MCP_TRUST_PROXY && env.MCP_TRUSTED_PROXY_HOPS?.trim()) {
    warnings.push(
      'MCP_TRUSTED_PROXY_HOPS is ignored: X-Forwarded-For is not read unless MCP_TRUST_PROXY=true',
    );
  }
  const storeUrl = e.OAUTH_CACHE_STORE || `sqlite://${dataDir}/oauth-cache.sqlite`;
  return {
    config: {
      host: e.MCP_HOST,
      port: e.MCP_PORT,
      publicUrl,
      publicUrlIsDefault: e.MCP_PUBLIC_URL === undefined,
      onecServiceUrl: `${e.MCP_ONEC_URL}/hs/${e.MCP_ONEC_SERVICE_ROOT}`,
      codeTtl: e.MCP_OAUTH2_CODE_TTL,
      accessTtl: e.MCP_OAUTH2_ACCESS_TTL,
      refreshTtl: e.MCP_OAUTH2_REFRESH_TTL,
      storeUrl,
      l1:
        e.OAUTH_CACHE_L1_MAX > 0
          ? { max: e.OAUTH_CACHE_L1_MAX, maxStaleMs: e.OAUTH_CACHE_L1_MAX_STALE_MS }
          : false,
      statusToken: e.OAUTH_CACHE_STATUS_TOKEN,
      logLevel: e.MCP_LOG_LEVEL,
      shutdownGraceMs: e.MCP_SHUTDOWN_GRACE_MS,
      onecTimeoutMs: e.MCP_ONEC_TIMEOUT_MS,
      onecRpcTimeoutMs: e.MCP_ONEC_RPC_TIMEOUT_MS,
      trustProxy: e.MCP_TRUST_PROXY,
      trustedProxyHops: e.MCP_TRUSTED_PROXY_HOPS,
      loginRateLimit: {
        maxFailuresPerUser: e.MCP_LOGIN_MAX_FAILURES_PER_USER,
        maxFailuresPerIp: e.MCP_LOGIN_MAX_FAILURES_PER_IP,
        maxSuccessesPerUser: e.MCP_LOGIN_MAX_SUCCESSES_PER_USER,
        windowMs: e.MCP_LOGIN_WINDOW_SECONDS * 1000,
      },
      registrationsPerHour: e.MCP_REGISTER_MAX_PER_HOUR,
      maxConnections: e.MCP_MAX_CONNECTIONS,
      redirectPolicy: { mode: e.MCP_REDIRECT_POLICY, allowedHosts: e.MCP_ALLOWED_REDIRECT_HOSTS },
      allowedHosts: e.MCP_ALLOWED_HOSTS,
      allowedOrigins: e.MCP_ALLOWED_ORIGINS,
      loginFormTtlSeconds: e.MCP_LOGIN_FORM_TTL_SECONDS,
      legacyClientIds: legacyClientIdsFromEnv(env),
      dataDir,
      cache,
    },
    warnings,
  };
}

function resolvePath(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function isLoopbackOrigin(origin: string): boolean {
  const host = new URL(origin).hostname;
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}
