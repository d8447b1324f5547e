import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv, presets, resolveConfig } from '../src/index.js';

const KEY = Buffer.alloc(32, 1).toString('base64');
const SECRET = Buffer.alloc(32, 2).toString('base64');

describe('presets', () => {
  it('carry the original design figures', () => {
    expect(presets.production).toMatchObject({
      maxTokens: 5000,
      maxSessions: 50000,
      tokenTtl: 3600,
      sessionTimeout: 7200,
      securityLevel: 'maximum',
    });
    expect(presets.development).toMatchObject({
      maxTokens: 100,
      maxSessions: 1000,
      tokenTtl: 1800,
      sessionTimeout: 3600,
    });
    expect(presets.test).toMatchObject({
      maxTokens: 50,
      maxSessions: 100,
      tokenTtl: 300,
      sessionTimeout: 600,
    });
    for (const p of Object.values(presets)) {
      expect(p).toMatchObject({ refreshThreshold: 300, maxSessionsPerUser: 5, cleanupInterval: 300 });
    }
  });
});

describe('configFromEnv', () => {
  it('reads the seed variables and the key variables', () => {
    const config = configFromEnv({
      ENVIRONMENT: 'production',
      MAX_TOKEN_CACHE_SIZE: '42',
      MAX_SESSIONS: '43',
      TOKEN_TTL: '600',
      SESSION_TIMEOUT: '900',
      SECURITY_LEVEL: 'maximum',
      REFRESH_THRESHOLD: '60',
      AUTO_CLEANUP_INTERVAL: '0',
      OAUTH_CACHE_SECRET: SECRET,
      OAUTH_CACHE_ENCRYPTION_KEYS: `new:${KEY},old:${Buffer.alloc(32, 3).toString('base64')}`,
    });
    expect(config).toMatchObject({
      environment: 'production',
      maxTokens: 42,
      maxSessions: 43,
      tokenTtl: 600,
      sessionTimeout: 900,
      securityLevel: 'maximum',
      refreshThreshold: 60,
      cleanupInterval: 0,
    });
    expect(config.encryptionKeys.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(config.secret).toEqual(Buffer.from(SECRET, 'base64'));
  });

  it('defaults to development over an empty environment', () => {
    expect(configFromEnv({})).toMatchObject({
      environment: 'development',
      securityLevel: 'enhanced',
      maxTokens: 100,
    });
  });

  it('names every bad variable and what it expects, at once', () => {
    const error = (() => {
      try {
        configFromEnv({
          MAX_TOKEN_CACHE_SIZE: 'lots',
          TOKEN_TTL: '-5',
          SECURITY_LEVEL: 'paranoid',
          OAUTH_CACHE_SECRET: 'short',
        });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.issues.join('\n');
    expect(text).toMatch(/MAX_TOKEN_CACHE_SIZE: expected a whole number, got "lots"/);
    expect(text).toMatch(/TOKEN_TTL: expected a whole number/);
    expect(text).toMatch(/SECURITY_LEVEL: expected one of basic, enhanced, maximum/);
    expect(text).toMatch(/OAUTH_CACHE_SECRET: expected base64 of at least 32 bytes/);
    expect(error!.message).not.toContain('short');
  });

  it('production (maximum) refuses to start without explicit keys', () => {
    expect(() => configFromEnv({ ENVIRONMENT: 'production' })).toThrow(
      /OAUTH_CACHE_SECRET.*required at security level "maximum"/s,
    );
  });

  it('rejects malformed encryption key lists with the entry position', () => {
    expect(() => configFromEnv({ OAUTH_CACHE_ENCRYPTION_KEYS: `a:${KEY},b:tooshort` })).toThrow(
      /\[1\] \(kid "b"\): expected a base64 key of exactly 32 bytes/,
    );
    expect(() => configFromEnv({ OAUTH_CACHE_ENCRYPTION_KEYS: `a:${KEY},a:${KEY}` })).toThrow(
      /duplicate key id "a"/,
    );
    expect(() => configFromEnv({ OAUTH_CACHE_ENCRYPTION_KEYS: KEY })).toThrow(/kid:base64key/);
  });

  it('never throws anything but ConfigError, and never echoes a long secret value (property)', () => {
    const names = [
      'ENVIRONMENT',
      'SECURITY_LEVEL',
      'MAX_TOKEN_CACHE_SIZE',
      'MAX_SESSIONS',
      'TOKEN_TTL',
      'SESSION_TIMEOUT',
      'REFRESH_THRESHOLD',
      'AUTO_CLEANUP_INTERVAL',
      'OAUTH_CACHE_SECRET',
      'OAUTH_CACHE_ENCRYPTION_KEYS',
    ];
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...names), fc.string({ unit: 'binary', maxLength: 80 })),
        (env) => {
          try {
            const config = configFromEnv(env);
            expect(config.maxTokens).toBeGreaterThan(0);
          } catch (e) {
            expect(e).toBeInstanceOf(ConfigError);
            const secret = env.OAUTH_CACHE_SECRET;
            if (secret && secret.length > 16) expect((e as Error).message).not.toContain(secret);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('resolveConfig', () => {
  it('rejects unknown options and wrong types with the field name', () => {
    expect(() => resolveConfig({ maxTokens: 0 })).toThrow(/maxTokens/);
    expect(() => resolveConfig({ prefix: 'bad prefix!' })).toThrow(/prefix/);
    expect(() => resolveConfig({ nope: 1 } as never)).toThrow(ConfigError);
  });
});
