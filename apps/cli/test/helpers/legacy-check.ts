import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { isExpiredEntry, legacyLogin, legacyToken } from '../../src/testing/index.js';
import { type Env, openServerCache } from './cli.js';

/** What a test dump holds (the `writeLegacyDump` spec, with the fields a check needs). */
export interface DumpShape {
  access: number;
  refresh: number;
  expiredEvery: number;
  users: number;
  seed: string;
}

/** Live (not expired) entries of one section. */
function liveIn(count: number, expiredEvery: number): number {
  return count - (expiredEvery > 0 ? Math.floor(count / expiredEvery) : 0);
}

/** Tokens a migration of the dump writes: its live entries. */
export function liveTokens(dump: DumpShape): number {
  return liveIn(dump.access, dump.expiredEvery) + liveIn(dump.refresh, dump.expiredEvery);
}

/** Entries of the dump a migration skips as expired. */
export function expiredEntries(dump: DumpShape): number {
  return dump.access + dump.refresh - liveTokens(dump);
}

/** An access token unrelated to any dump, stored through core as the server would. */
export interface SeededToken {
  token: string;
  userId: string;
}

/** Store `count` unrelated live access tokens into the store at `url` (through core, with `env`). */
export async function seedTokens(url: string, env: Env, count: number): Promise<SeededToken[]> {
  const cache = await openServerCache(url, env);
  try {
    const out: SeededToken[] = [];
    for (let i = 0; i < count; i++) {
      const seeded = {
        token: `unrelated-${randomBytes(16).toString('base64url')}`,
        userId: `unrelated-${i}`,
      };
      await cache.storeToken({ userId: seeded.userId, accessToken: seeded.token, expiresIn: 3600 });
      out.push(seeded);
    }
    return out;
  } finally {
    await cache.close();
  }
}

/** Active tokens of the store at `url` (what the server's stats would say). */
export async function activeTokens(url: string, env: Env): Promise<number> {
  const cache = await openServerCache(url, env);
  try {
    return (await cache.stats()).summary.totalActiveTokens;
  } finally {
    await cache.close();
  }
}

/** `fn(i)` for i in [0, n), `width` at a time, results in order. */
async function mapChunked<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < n; start += width) {
    const end = Math.min(n, start + width);
    out.push(...(await Promise.all(Array.from({ length: end - start }, (_, k) => fn(start + k)))));
  }
  return out;
}

/**
 * Assert the store at `url` holds exactly the dump's live tokens plus `seeded`: the count the
 * server's stats give, every live access token validating for its user and every live refresh
 * token inspectable (expired ones neither), and each seeded token still validating for its user.
 */
export async function expectDumpComplete(
  url: string,
  env: Env,
  dump: DumpShape,
  seeded: readonly SeededToken[] = [],
): Promise<void> {
  const cache = await openServerCache(url, env);
  try {
    expect((await cache.stats()).summary.totalActiveTokens).toBe(liveTokens(dump) + seeded.length);
    const expectedUser = (i: number) =>
      isExpiredEntry(i, dump.expiredEvery) ? null : legacyLogin(i, dump.users);
    const access = await mapChunked(dump.access, 100, async (i) => {
      const v = await cache.validateAccessToken(legacyToken(dump.seed, 'access', i));
      return v?.userId ?? null;
    });
    expect(access).toEqual(Array.from({ length: dump.access }, (_, i) => expectedUser(i)));
    const refresh = await mapChunked(dump.refresh, 100, async (i) => {
      const v = await cache.inspectRefreshToken(legacyToken(dump.seed, 'refresh', i));
      return v?.userId ?? null;
    });
    expect(refresh).toEqual(Array.from({ length: dump.refresh }, (_, i) => expectedUser(i)));
    for (const s of seeded) expect((await cache.validateAccessToken(s.token))?.userId).toBe(s.userId);
  } finally {
    await cache.close();
  }
}
