import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, MemoryStore, StoreUnavailableError } from '@oauth-cache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, createStoreFromEnv } from '../src/create-store.js';
import { L1Store } from '../src/l1/l1-store.js';
import { RedisStore } from '../src/redis/redis-store.js';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { freePort, type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
  await cleanupTempDirs();
});

describe('createStore', () => {
  it('memory:// gives core MemoryStore', async () => {
    const store = await createStore('memory://?max=10');
    expect(store).toBeInstanceOf(MemoryStore);
    expect(store.kind).toBe('memory');
  });

  it('sqlite:// relative to cwd, creating missing folders', async () => {
    const cwd = await tempDir();
    const store = await createStore('sqlite://./a/b/cache.db', { cwd });
    expect(store).toBeInstanceOf(SqliteStore);
    expect(existsSync(join(cwd, 'a/b/cache.db'))).toBe(true);
    await store.set('oc:k', 1, 10_000);
    expect(await store.get('oc:k')).toBe(1);
    await store.close();
  });

  it('sqlite:/// absolute path', async () => {
    const dir = await tempDir();
    const store = await createStore(`sqlite://${join(dir, 'abs.db')}`);
    expect((store as SqliteStore).path).toBe(join(dir, 'abs.db'));
    await store.close();
  });

  it('redis:// connects and answers; with l1 it is wrapped', async () => {
    const plain = await createStore(server.url);
    expect(plain).toBeInstanceOf(RedisStore);
    await plain.ping();
    const cached = await createStore(`${server.url}/4`, { l1: { max: 10 } });
    expect(cached).toBeInstanceOf(L1Store);
    expect(cached.kind).toBe('redis');
    await cached.close();
    await plain.close();
  });

  it('an unreachable Redis fails at start-up within a few seconds, naming the masked URL', async () => {
    const port = await freePort(); // nothing listens there
    const started = Date.now();
    const error = await createStore(`redis://app:topsecret@127.0.0.1:${port}/0`).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain(`redis://app:***@127.0.0.1:${port}/0`);
    expect(message).not.toContain('topsecret');
    expect(message).toMatch(/cannot connect to Redis/);
  });

  it('a wrong Redis password fails at start-up with the password masked; the right one works', async () => {
    const guarded = await startRedisServer({ password: 'right-pass' });
    try {
      const error = await createStore(`redis://default:wrongpass@127.0.0.1:${guarded.port}`).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).not.toContain('wrongpass');
      expect((error as Error).message).toContain('redis://default:***@');
      const store = await createStore(guarded.url);
      await store.set('oc:k', 1, 10_000);
      expect(await store.get('oc:k')).toBe(1);
      await store.close();
    } finally {
      await guarded.stop();
    }
  });

  it('unknown schemes are a ConfigError before anything is opened', async () => {
    await expect(createStore('mongodb://u:pw@h/db')).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('createStoreFromEnv', () => {
  it('reads OAUTH_CACHE_STORE (default memory://) and the L1 variables', async () => {
    expect(await createStoreFromEnv({})).toBeInstanceOf(MemoryStore);
    const dir = await tempDir();
    const store = await createStoreFromEnv({
      OAUTH_CACHE_STORE: `sqlite://${join(dir, 'env.db')}`,
      OAUTH_CACHE_L1_MAX: '100',
      OAUTH_CACHE_L1_MAX_STALE_MS: '250',
    });
    expect(store).toBeInstanceOf(L1Store);
    expect((store as L1Store).inner).toBeInstanceOf(SqliteStore);
    await store.close();
  });

  it('names each bad variable', async () => {
    const error = await createStoreFromEnv({
      OAUTH_CACHE_L1_MAX: 'lots',
      OAUTH_CACHE_L1_MAX_STALE_MS: '-1',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      'OAUTH_CACHE_L1_MAX: expected a whole number, got "lots"',
      'OAUTH_CACHE_L1_MAX_STALE_MS: expected a whole number, got "-1"',
    ]);
    await expect(createStoreFromEnv({ OAUTH_CACHE_STORE: 'ftp://x' })).rejects.toThrow(/OAUTH_CACHE_STORE/);
  });
});

describe('rediss:// (TLS)', () => {
  it('connects with the server CA, refuses an untrusted certificate at start-up', async () => {
    const tlsServer = await startRedisServer({ tls: true });
    try {
      expect(tlsServer.url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+$/);
      const store = await createStore(tlsServer.url, { redis: { tls: { ca: tlsServer.ca! } } });
      await store.set('oc:tls', { ok: true }, 10_000);
      expect(await store.get('oc:tls')).toEqual({ ok: true });
      await store.close();
      const error = await createStore(tlsServer.url).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toContain(tlsServer.url);
    } finally {
      await tlsServer.stop();
    }
  });
});
