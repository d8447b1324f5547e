import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenCache, InvalidInputError, MemoryStore } from '../src/index.js';

describe('token strings from outside (property)', () => {
  it('validate never throws for any string; only the stored token validates', async () => {
    const cache = createTokenCache({ store: new MemoryStore(), environment: 'test', autoCleanup: false });
    await cache.storeToken({ userId: 'u', accessToken: 'the-one' });
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 6000 }), async (token) => {
        const result = await cache.validateAccessToken(token);
        expect(result === null || token === 'the-one').toBe(true);
      }),
      { numRuns: 1000 },
    );
    await cache.close();
  });

  it('stores tokens of any length and bytes up to the limit, refuses others with InvalidInputError', async () => {
    const cache = createTokenCache({
      store: new MemoryStore(),
      environment: 'test',
      autoCleanup: false,
      maxTokens: 100000,
    });
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', minLength: 1, maxLength: 4096 }), async (token) => {
        await cache.storeToken({ userId: 'u', accessToken: token });
        expect((await cache.validateAccessToken(token))?.userId).toBe('u');
      }),
      { numRuns: 300 },
    );
    for (const bad of ['', 'x'.repeat(4097), 42, null]) {
      await expect(cache.storeToken({ userId: 'u', accessToken: bad as string })).rejects.toBeInstanceOf(
        InvalidInputError,
      );
    }
    await cache.close();
  });
});

describe('lifecycle', () => {
  it('close() stops the cleanup timer so the process can exit', async () => {
    const cache = createTokenCache({ environment: 'test', cleanupInterval: 1 });
    let runs = 0;
    cache.events.on('cleanup', () => runs++);
    await cache.close();
    await cache.close();
    await new Promise((r) => setTimeout(r, 1500));
    expect(runs).toBe(0);
  });

  it('warns through a security event when keys are generated for this process only', async () => {
    const cache = createTokenCache({ environment: 'development', autoCleanup: false });
    const event = await new Promise((resolve) => cache.events.once('security', resolve));
    expect(event).toMatchObject({ type: 'ephemeral_keys' });
    await cache.close();
  });

  it('runs the periodic cleanup', async () => {
    const cache = createTokenCache({ environment: 'test', cleanupInterval: 1 });
    const event = await new Promise((resolve) => cache.events.once('cleanup', resolve));
    expect(event).toMatchObject({ removed: expect.any(Number) });
    await cache.close();
  });
});

describe('store failures', () => {
  it('are reported as operation result "error" and an error event, and rethrown as they are', async () => {
    const { StoreUnavailableError } = await import('../src/index.js');
    const store = new MemoryStore();
    const cache = createTokenCache({ store, environment: 'test', autoCleanup: false });
    await cache.storeToken({ userId: 'u', accessToken: 't' });
    store.get = async () => {
      throw new StoreUnavailableError('down');
    };
    store.set = store.get as never;
    store.commit = store.get as never;
    store.getWithGrant = store.get as never;
    // A store whose reads fail holds nothing it could give at once.
    (store as { hold?: unknown }).hold = undefined;
    const ops: string[] = [];
    const errors: Error[] = [];
    cache.events.on('operation', (e) => ops.push(`${e.operation}:${e.result}`));
    cache.events.on('error', (e) => errors.push(e));
    await expect(cache.validateAccessToken('t')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(cache.storeToken({ userId: 'u', accessToken: 'x' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    expect(ops).toEqual(['validate:error', 'store:error']);
    expect(errors).toHaveLength(2);
    await cache.close();
  });
});
