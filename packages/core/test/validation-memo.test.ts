import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sealer } from '../src/crypto/sealer.js';
import { TokenSealer } from '../src/crypto/token-sealer.js';
import { createTokenCache, type KeyValueStore, type SecurityEvent } from '../src/index.js';
import { RecordCodec } from '../src/records/codec.js';
import { ValidationMemo } from '../src/validation-memo.js';

const TOKEN = 'memo-test-token-0123456789abcdef';
const body = { uid: 'ivanov', uh: 'digest-of-ivanov', fam: 'f1', ud: { login: 'ivanov', password: 'p@ss' } };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function codec(level: 'enhanced' | 'maximum') {
  const sealer = new Sealer([{ kid: 'k1', key: randomBytes(32) }]);
  return new RecordCodec(level, sealer, new TokenSealer(randomBytes(32)), 'oc:');
}

/** A record as a shared store hands it back: parsed anew on every read. */
const reread = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('ValidationMemo', () => {
  it('answers only for the same sealed bytes under the same token digest', () => {
    const c = codec('maximum');
    const memo = new ValidationMemo();
    const now = Date.now();
    const stored = c.encode('oc:at:d1', 'access', now + 60_000, body, TOKEN);
    const decoded = c.decode('oc:at:d1', stored, TOKEN)!;
    memo.remember('d1', stored, decoded, now);
    expect(memo.recall('d1', reread(stored))).toBe(decoded);
    // Another digest (another token), never.
    expect(memo.recall('d2', reread(stored))).toBeUndefined();
    // The same body sealed again (a re-issue): other bytes, so decoded anew.
    const resealed = c.encode('oc:at:d1', 'access', now + 60_000, body, TOKEN);
    expect(memo.recall('d1', resealed)).toBeUndefined();
    // Any field it depends on changed: not the same record.
    expect(memo.recall('d1', { ...reread(stored), exp: now + 1 })).toBeUndefined();
    expect(memo.recall('d1', { ...reread(stored), kind: 'refresh' })).toBeUndefined();
    expect(memo.recall('d1', { ...reread(stored), pv: 'tampered' })).toBeUndefined();
    expect(memo.recall('d1', undefined)).toBeUndefined();
    memo.forget('d1');
    expect(memo.recall('d1', stored)).toBeUndefined();
  });

  it('is bounded: least recently used entries go first', () => {
    const c = codec('maximum');
    const memo = new ValidationMemo(3);
    const now = Date.now();
    const records = Array.from({ length: 10 }, (_, i) => {
      const stored = c.encode(`oc:at:d${i}`, 'access', now + 60_000, body, TOKEN);
      const decoded = c.decode(`oc:at:d${i}`, stored, TOKEN)!;
      memo.remember(`d${i}`, stored, decoded, now);
      return { stored, decoded };
    });
    expect(memo.size).toBe(3);
    expect(memo.recall('d0', records[0]!.stored)).toBeUndefined();
    expect(memo.recall('d9', records[9]!.stored)).toBe(records[9]!.decoded);
  });

  it('lets an entry go at the record expiry, and never keeps an expired one', async () => {
    const c = codec('maximum');
    const memo = new ValidationMemo();
    const now = Date.now();
    const soon = c.encode('oc:at:s', 'access', now + 50, body, TOKEN);
    memo.remember('s', soon, c.decode('oc:at:s', soon, TOKEN)!, now);
    expect(memo.size).toBe(1);
    await sleep(300);
    expect(memo.recall('s', soon)).toBeUndefined();
    const gone = c.encode('oc:at:g', 'access', now - 1, body, TOKEN);
    memo.remember('g', gone, c.decode('oc:at:g', gone, TOKEN)!, now);
    expect(memo.recall('g', gone)).toBeUndefined();
  });

  it('keeps nothing for records not sealed as a whole (enhanced)', () => {
    const c = codec('enhanced');
    const memo = new ValidationMemo();
    const stored = c.encode('oc:at:e', 'access', Date.now() + 60_000, body, TOKEN);
    memo.remember('e', stored, c.decode('oc:at:e', stored, TOKEN)!, Date.now());
    expect(memo.size).toBe(0);
    expect(memo.recall('e', stored)).toBeUndefined();
  });
});

/** A Keyv-shaped store that hands back a freshly parsed copy on every read, like SQLite or Redis. */
function sharedLikeStore(): KeyValueStore {
  const map = new Map<string, { text: string; exp: number | undefined }>();
  return {
    async get(key) {
      const entry = map.get(key);
      if (entry === undefined) return undefined;
      if (entry.exp !== undefined && entry.exp <= Date.now()) {
        map.delete(key);
        return undefined;
      }
      return JSON.parse(entry.text);
    },
    async set(key, value, ttl) {
      map.set(key, { text: JSON.stringify(value), exp: ttl ? Date.now() + ttl : undefined });
      return true;
    },
    async delete(key) {
      return map.delete(key);
    },
  };
}

function maximumCache(now: () => number = Date.now) {
  const events: SecurityEvent[] = [];
  const cache = createTokenCache({
    store: sharedLikeStore(),
    environment: 'test',
    securityLevel: 'maximum',
    secret: randomBytes(32),
    encryptionKeys: [{ kid: 'k1', key: randomBytes(32) }],
    autoCleanup: false,
    now,
  });
  cache.events.on('security', (event) => events.push(event));
  return { cache, events };
}

describe('validateAccessToken with the memo (maximum, a store that re-parses every read)', () => {
  it('reuses the decoding of unchanged bytes, and still reads the store: revocation refuses at once', async () => {
    const { cache } = maximumCache();
    const userData = { login: 'ivanov', password: 'p@ss' };
    await cache.storeToken({ userId: 'ivanov', accessToken: TOKEN, userData });
    const first = await cache.validateAccessToken(TOKEN);
    const second = await cache.validateAccessToken(TOKEN);
    expect(first).toMatchObject({ valid: true, userId: 'ivanov', userData });
    // The same decoded private part: the memo answered, not a second AES-GCM open.
    expect(second?.userData).toBe(first?.userData);
    expect(await cache.revokeToken(TOKEN)).toBe(true);
    expect(await cache.validateAccessToken(TOKEN)).toBeNull();
    // Issued again with other data: new bytes, decoded anew.
    await cache.storeToken({ userId: 'petrov', accessToken: TOKEN, userData: { login: 'petrov' } });
    expect(await cache.validateAccessToken(TOKEN)).toMatchObject({
      userId: 'petrov',
      userData: { login: 'petrov' },
    });
    await cache.revokeUserTokens('petrov');
    expect(await cache.validateAccessToken(TOKEN)).toBeNull();
    await cache.close();
  });

  it('checks expiry against the clock on every call, memo or not', async () => {
    let clock = Date.now();
    const { cache, events } = maximumCache(() => clock);
    await cache.storeToken({ userId: 'ivanov', accessToken: TOKEN, expiresIn: 60 });
    expect(await cache.validateAccessToken(TOKEN)).toMatchObject({ userId: 'ivanov' });
    expect(await cache.validateAccessToken(TOKEN)).toMatchObject({ userId: 'ivanov' });
    // The store (real time) still has the record; the cache's clock says it expired.
    clock += 61_000;
    expect(await cache.validateAccessToken(TOKEN)).toBeNull();
    expect(events.some((e) => e.type === 'token_rejected' && e.reason === 'expired')).toBe(true);
    await cache.close();
  });

  it('never answers for another token, nor without one', async () => {
    const { cache } = maximumCache();
    await cache.storeToken({ userId: 'ivanov', accessToken: TOKEN, userData: { password: 'p@ss' } });
    expect(await cache.validateAccessToken(TOKEN)).not.toBeNull();
    expect(await cache.validateAccessToken(`${TOKEN}x`)).toBeNull();
    // A listing (no token) gets no private part, even after the holder's validation was memoised.
    const [listed] = await cache.getTokensForUser('ivanov');
    expect(JSON.stringify(listed)).not.toContain('p@ss');
    await cache.close();
  });
});
