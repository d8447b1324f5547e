import { z } from 'zod';
import { ConfigError } from './errors.js';

/** Security levels. See README "Security levels". */
export type SecurityLevel = 'basic' | 'enhanced' | 'maximum';
export type Environment = 'production' | 'development' | 'test';

/** One AES-256-GCM key with its id. */
export interface EncryptionKey {
  kid: string;
  key: Buffer;
}

/** Resolved cache configuration. Durations are in seconds unless the name says otherwise. */
export interface CacheConfig {
  environment: Environment;
  securityLevel: SecurityLevel;
  maxTokens: number;
  maxSessions: number;
  /** Default access token lifetime (s). */
  tokenTtl: number;
  /** Default refresh token lifetime (s). */
  refreshTokenTtl: number;
  /** Session idle timeout (s). */
  sessionTimeout: number;
  /** Session absolute lifetime (s). */
  sessionAbsoluteTimeout: number;
  maxSessionsPerUser: number;
  /**
   * Live grants (token families: one per login, kept through refresh rotation) a user may hold.
   * A new grant beyond it revokes the user's own least recently issued grant, never another user's.
   */
  maxGrantsPerUser: number;
  /** `needsRefresh` turns true this many seconds before expiry. */
  refreshThreshold: number;
  /** Seconds between expiry sweeps; 0 turns the timer off. */
  cleanupInterval: number;
  /**
   * Retry window of refresh rotation (RFC 9700 §4.14.2), ms from the rotation; default 2000. A
   * consumed refresh token presented again within it by the same client is a retry of a lost
   * response: answered with a new pair (the missed pair revoked) unless that pair's refresh token
   * was used; two presentations that both find the token live get one winner (the other: `race`). Later, or from
   * another client: reuse (family revoked). 0 turns retries off.
   */
  reuseLeewayMs: number;
  /** Session activity is written at most once per this many seconds (sliding timeout granularity). */
  touchInterval: number;
  /** HMAC key for digests. Missing: generated per process (tokens do not survive a restart). */
  secret: Buffer | undefined;
  /** First key seals; all open. Missing: generated per process. */
  encryptionKeys: EncryptionKey[];
  /** Key prefix in the store. */
  prefix: string;
}

/** Options accepted by `createTokenCache` / `resolveConfig`: everything optional over a preset. */
export type CacheConfigInput = Partial<Omit<CacheConfig, 'secret' | 'encryptionKeys'>> & {
  secret?: string | Buffer;
  encryptionKeys?: EncryptionKey[] | string;
};

const base = {
  refreshTokenTtl: 14 * 24 * 3600,
  sessionAbsoluteTimeout: 24 * 3600,
  maxSessionsPerUser: 5,
  maxGrantsPerUser: 5,
  refreshThreshold: 300,
  cleanupInterval: 300,
  reuseLeewayMs: 2000,
  prefix: 'oc:',
} as const;

/** The presets of the original design (UPSTREAM.md), as resolved defaults. */
export const presets: Record<Environment, Omit<CacheConfig, 'secret' | 'encryptionKeys'>> = {
  production: {
    ...base,
    environment: 'production',
    securityLevel: 'maximum',
    maxTokens: 5000,
    maxSessions: 50000,
    tokenTtl: 3600,
    sessionTimeout: 7200,
    touchInterval: 60,
  },
  development: {
    ...base,
    environment: 'development',
    securityLevel: 'enhanced',
    maxTokens: 100,
    maxSessions: 1000,
    tokenTtl: 1800,
    sessionTimeout: 3600,
    touchInterval: 30,
  },
  test: {
    ...base,
    environment: 'test',
    securityLevel: 'enhanced',
    maxTokens: 50,
    maxSessions: 100,
    tokenTtl: 300,
    sessionTimeout: 600,
    touchInterval: 0,
  },
};

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

const inputSchema = z
  .object({
    environment: z.enum(['production', 'development', 'test']),
    securityLevel: z.enum(['basic', 'enhanced', 'maximum']),
    maxTokens: positiveInt,
    maxSessions: positiveInt,
    tokenTtl: positiveInt,
    refreshTokenTtl: positiveInt,
    sessionTimeout: positiveInt,
    sessionAbsoluteTimeout: positiveInt,
    maxSessionsPerUser: positiveInt,
    maxGrantsPerUser: positiveInt,
    refreshThreshold: nonNegativeInt,
    cleanupInterval: nonNegativeInt,
    reuseLeewayMs: nonNegativeInt,
    touchInterval: nonNegativeInt,
    prefix: z
      .string()
      .max(64)
      .regex(/^[A-Za-z0-9:_.-]*$/, 'letters, digits and : _ . - only'),
  })
  .partial()
  .strict();

const MIN_SECRET_BYTES = 32;

/** Decode `OAUTH_CACHE_SECRET`: base64/base64url of >= 32 bytes, or a passphrase of >= 32 characters. */
export function parseSecret(value: string | Buffer, name = 'secret'): Buffer {
  if (Buffer.isBuffer(value)) {
    if (value.length < MIN_SECRET_BYTES) throw new ConfigError([`${name}: expected at least 32 bytes`]);
    return value;
  }
  const trimmed = value.trim();
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    const decoded = Buffer.from(trimmed, 'base64');
    if (decoded.length >= MIN_SECRET_BYTES) return decoded;
  }
  if (trimmed.length >= MIN_SECRET_BYTES) return Buffer.from(trimmed, 'utf8');
  throw new ConfigError([
    `${name}: expected base64 of at least 32 bytes or a passphrase of at least 32 characters`,
  ]);
}

/**
 * Decode `OAUTH_CACHE_ENCRYPTION_KEYS`: comma-separated `kid:base64key` (32-byte keys), the first
 * one seals new records, all of them open old ones.
 */
export function parseEncryptionKeys(value: string, name = 'OAUTH_CACHE_ENCRYPTION_KEYS'): EncryptionKey[] {
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new ConfigError([`${name}: expected comma-separated kid:base64key entries`]);
  const seen = new Set<string>();
  return parts.map((part, i) => {
    const sep = part.indexOf(':');
    const kid = sep > 0 ? part.slice(0, sep) : '';
    const raw = sep > 0 ? part.slice(sep + 1) : '';
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid)) {
      throw new ConfigError([
        `${name}[${i}]: expected kid:base64key with a kid of 1-32 letters, digits, _ or -`,
      ]);
    }
    if (seen.has(kid)) throw new ConfigError([`${name}[${i}]: duplicate key id "${kid}"`]);
    seen.add(kid);
    const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(raw) ? Buffer.from(raw, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) {
      throw new ConfigError([`${name}[${i}] (kid "${kid}"): expected a base64 key of exactly 32 bytes`]);
    }
    return { kid, key };
  });
}

/** Merge options over the preset of their environment and validate them. Throws {@link ConfigError}. */
export function resolveConfig(input: CacheConfigInput = {}): CacheConfig {
  const { secret, encryptionKeys, ...rest } = input;
  const parsed = inputSchema.safeParse(rest);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`));
  }
  const environment = parsed.data.environment ?? 'development';
  const config: CacheConfig = {
    ...presets[environment],
    ...stripUndefined(parsed.data),
    environment,
    secret: secret === undefined ? undefined : parseSecret(secret),
    encryptionKeys:
      encryptionKeys === undefined
        ? []
        : typeof encryptionKeys === 'string'
          ? parseEncryptionKeys(encryptionKeys, 'encryptionKeys')
          : encryptionKeys,
  };
  for (const k of config.encryptionKeys) {
    if (!Buffer.isBuffer(k.key) || k.key.length !== 32) {
      throw new ConfigError([`encryptionKeys (kid "${k.kid}"): expected a 32-byte key`]);
    }
  }
  if (config.securityLevel === 'maximum') {
    const missing: string[] = [];
    if (!config.secret) missing.push('secret (OAUTH_CACHE_SECRET): required at security level "maximum"');
    if (config.encryptionKeys.length === 0) {
      missing.push('encryptionKeys (OAUTH_CACHE_ENCRYPTION_KEYS): required at security level "maximum"');
    }
    if (missing.length) throw new ConfigError(missing);
  }
  if (config.sessionAbsoluteTimeout < config.sessionTimeout) {
    config.sessionAbsoluteTimeout = config.sessionTimeout;
  }
  return config;
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The environment variables `configFromEnv` reads, and the option each one sets. */
export const ENV_VARIABLES = {
  ENVIRONMENT: 'environment',
  SECURITY_LEVEL: 'securityLevel',
  MAX_TOKEN_CACHE_SIZE: 'maxTokens',
  MAX_SESSIONS: 'maxSessions',
  TOKEN_TTL: 'tokenTtl',
  REFRESH_TOKEN_TTL: 'refreshTokenTtl',
  SESSION_TIMEOUT: 'sessionTimeout',
  SESSION_ABSOLUTE_TIMEOUT: 'sessionAbsoluteTimeout',
  MAX_SESSIONS_PER_USER: 'maxSessionsPerUser',
  MAX_GRANTS_PER_USER: 'maxGrantsPerUser',
  REFRESH_THRESHOLD: 'refreshThreshold',
  AUTO_CLEANUP_INTERVAL: 'cleanupInterval',
  REFRESH_REUSE_LEEWAY_MS: 'reuseLeewayMs',
  OAUTH_CACHE_PREFIX: 'prefix',
} as const;

const NUMERIC = new Set<string>([
  'maxTokens',
  'maxSessions',
  'tokenTtl',
  'refreshTokenTtl',
  'sessionTimeout',
  'sessionAbsoluteTimeout',
  'maxSessionsPerUser',
  'maxGrantsPerUser',
  'refreshThreshold',
  'cleanupInterval',
  'reuseLeewayMs',
]);

/**
 * Read the configuration from environment variables (see {@link ENV_VARIABLES}, plus
 * `OAUTH_CACHE_SECRET` and `OAUTH_CACHE_ENCRYPTION_KEYS`). Every problem is reported at once, each
 * naming its variable and what it expects. Explicit `overrides` win over the environment.
 */
export function configFromEnv(
  env: Record<string, string | undefined> = process.env,
  overrides: CacheConfigInput = {},
): CacheConfig {
  const issues: string[] = [];
  const input: Record<string, unknown> = {};
  for (const [variable, option] of Object.entries(ENV_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') continue;
    if (NUMERIC.has(option)) {
      const n = Number(raw.trim());
      if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) {
        issues.push(`${variable}: expected a whole number, got "${truncate(raw)}"`);
        continue;
      }
      input[option] = n;
    } else if (option === 'prefix') {
      input[option] = raw.trim();
    } else {
      input[option] = raw.trim().toLowerCase();
    }
  }
  const allowed: Record<string, string[]> = {
    environment: ['production', 'development', 'test'],
    securityLevel: ['basic', 'enhanced', 'maximum'],
  };
  for (const [option, values] of Object.entries(allowed)) {
    const v = input[option];
    if (v !== undefined && !values.includes(v as string)) {
      const variable = Object.entries(ENV_VARIABLES).find(([, o]) => o === option)?.[0];
      issues.push(`${variable}: expected one of ${values.join(', ')}, got "${truncate(String(v))}"`);
      delete input[option];
    }
  }
  let secret: Buffer | undefined;
  let encryptionKeys: EncryptionKey[] | undefined;
  try {
    if (env.OAUTH_CACHE_SECRET) secret = parseSecret(env.OAUTH_CACHE_SECRET, 'OAUTH_CACHE_SECRET');
  } catch (e) {
    issues.push(...(e as ConfigError).issues);
  }
  try {
    if (env.OAUTH_CACHE_ENCRYPTION_KEYS)
      encryptionKeys = parseEncryptionKeys(env.OAUTH_CACHE_ENCRYPTION_KEYS);
  } catch (e) {
    issues.push(...(e as ConfigError).issues);
  }
  if (issues.length) throw new ConfigError(issues);
  try {
    return resolveConfig({ ...input, secret, encryptionKeys, ...overrides } as CacheConfigInput);
  } catch (e) {
    if (e instanceof ConfigError) {
      // Name the variables, not the option names, where we can.
      const byOption = Object.fromEntries(Object.entries(ENV_VARIABLES).map(([k, v]) => [v, k]));
      throw new ConfigError(
        e.issues.map((i) => {
          const opt = i.split(':')[0] ?? '';
          return byOption[opt] ? `${byOption[opt]}${i.slice(opt.length)}` : i;
        }),
      );
    }
    throw e;
  }
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}
