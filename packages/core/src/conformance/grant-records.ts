/**
 * The cache's behaviour over the grant layout (`records/codec.ts`): token records hold only their
 * kind, expiry, grant id, wrapped grant key and what is their own; the grant holds the rest.
 */
import { expect, it } from 'vitest';
import type { CacheStore, StoredRecord } from '../store/contract.js';
import type { TokenCache, TokenCacheOptions } from '../token-cache.js';

/** What the suite shares with this part. */
export interface GrantRecordsContext {
  store: () => CacheStore;
  open: (extra?: Omit<TokenCacheOptions, 'store'>) => TokenCache;
}

/** Every stored record under the cache's prefix, by key relative to it. */
async function stored(cache: TokenCache, store: CacheStore): Promise<Map<string, StoredRecord>> {
  const out = new Map<string, StoredRecord>();
  const prefix = cache.config.prefix;
  for await (const e of store.entries(prefix)) out.set(e.key.slice(prefix.length), e.value as StoredRecord);
  return out;
}

function only(records: Map<string, StoredRecord>, prefix: string): StoredRecord[] {
  return [...records].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
}

/** Fields of a record linked to its grant beyond its kind, expiry, link, wrapped key and own part. */
function beyondLinkedLayout(record: StoredRecord): string[] {
  return Object.keys(record).filter((k) => !['v', 'kind', 'exp', 'g', 'wk', 'sealed', 'body'].includes(k));
}

export function grantRecordTests({ store, open }: GrantRecordsContext): void {
  for (const level of ['enhanced', 'maximum'] as const) {
    it(`a token record holds only its kind, expiry, grant id and wrapped key; the grant the rest (${level})`, async () => {
      const cache = open({ securityLevel: level });
      const info = await cache.storeToken({
        userId: 'grant-user',
        accessToken: 'grant-a0',
        refreshToken: 'grant-r0',
        clientId: 'client-g',
        scopes: ['read', 'write'],
        userData: { login: 'grant-user', password: 'grant-secret' },
      });
      const records = await stored(cache, store());
      const tokens = [...only(records, 'at:'), ...only(records, 'rt:')];
      expect(tokens).toHaveLength(2);
      for (const t of tokens) {
        // A new refresh token has nothing of its own (rotation counter 0).
        expect(Object.keys(t).sort()).toEqual(['exp', 'g', 'kind', 'v', 'wk']);
        expect(t.g).toBe(info.familyId);
      }
      // Both tokens wrap the same grant key, each under its own token: different ciphertexts.
      expect(tokens[0]!.wk).not.toBe(tokens[1]!.wk);
      const grant = records.get(`g:${info.familyId}`);
      expect(grant?.kind).toBe('grant');
      expect(typeof grant?.gp).toBe('string');
      const text = JSON.stringify([...records.values()]);
      expect(text).not.toContain('grant-secret');
      // What the server's keys read of the grant: everything but its private part.
      const view = cache.readStoredRecord(`g:${info.familyId}`, grant)!;
      expect(view.body.cid).toBe('client-g');
      expect(view.body.ud).toBeUndefined();
      if (level === 'maximum') expect(JSON.stringify(view)).not.toContain('grant-user');
      const validation = await cache.validateAccessToken('grant-a0');
      expect(validation).toMatchObject({
        userId: 'grant-user',
        clientId: 'client-g',
        scopes: ['read', 'write'],
        familyId: info.familyId,
        userData: { login: 'grant-user', password: 'grant-secret' },
      });
    });
  }

  for (const level of ['basic', 'enhanced', 'maximum'] as const) {
    it(`a pending grant (an authorization code's) opens only with its code, and its tokens join it (${level})`, async () => {
      const cache = open({ securityLevel: level });
      const code = 'pending-code-0123456789-0123456789-012345';
      const authorised = {
        userId: 'pending-user',
        clientId: 'client-p',
        scopes: ['mcp'],
        resource: 'https://mcp.example/mcp',
        userData: { login: 'pending-user', password: 'pending-secret' },
        data: { redirectUri: 'https://client.example/cb', codeChallenge: 'challenge-p' },
      };
      const familyId = await cache.storePendingGrant({
        code,
        key: 'x:code:pending-0',
        expiresIn: 120,
        ...authorised,
      });
      const records = await stored(cache, store());
      const codeRecord = records.get('x:code:pending-0')!;
      expect(codeRecord).toMatchObject({ kind: 'code', g: familyId });
      expect(beyondLinkedLayout(codeRecord)).toEqual([]);
      if (level !== 'basic') {
        expect(JSON.stringify([...records.values()])).not.toContain('pending-secret');
        expect(records.get(`g:${familyId}`)?.gp).toEqual(expect.any(String));
      }
      // Another code at the same key opens nothing (the key is wrapped under the code).
      if (level !== 'basic')
        expect(await cache.openPendingGrant('another-code', 'x:code:pending-0')).toBeUndefined();
      expect(await cache.openPendingGrant(code, 'x:code:missing')).toBeUndefined();
      await expect(cache.openPendingGrant(code, 'at:not-a-code')).rejects.toThrow(/under 'x:'/);
      const pending = (await cache.openPendingGrant(code, 'x:code:pending-0'))!;
      expect(pending).toMatchObject({ familyId, ...authorised });
      // The input must agree with the grant; a copy of the object joins nothing.
      const base = { userId: 'pending-user', accessToken: 'pending-a0', clientId: 'client-p' };
      await expect(
        cache.storeToken({ ...base, userId: 'someone-else', pendingGrant: pending }),
      ).rejects.toThrow(/userId differs/);
      await expect(
        cache.storeToken({
          ...base,
          resource: 'https://mcp.example/mcp',
          userData: {},
          pendingGrant: pending,
        }),
      ).rejects.toThrow(/come from the grant/);
      await expect(
        cache.storeToken({
          ...base,
          resource: 'https://mcp.example/mcp',
          pendingGrant: { ...pending } as typeof pending,
        }),
      ).rejects.toThrow(/openPendingGrant/);
      await expect(
        cache.storeTokens([{ ...base, resource: 'https://mcp.example/mcp', pendingGrant: pending }]),
      ).rejects.toThrow(/storeToken only/);

      const info = await cache.storeToken({
        ...base,
        refreshToken: 'pending-r0',
        scopes: ['mcp'],
        resource: 'https://mcp.example/mcp',
        pendingGrant: pending,
      });
      expect(info.familyId).toBe(familyId);
      const after = await stored(cache, store());
      for (const key of [`at:${cache.digest('pending-a0')}`, `rt:${cache.digest('pending-r0')}`]) {
        expect(after.get(key)?.g).toBe(familyId);
      }
      // The grant now lives as long as its tokens.
      expect(after.get(`g:${familyId}`)!.exp).toBeGreaterThan(codeRecord.exp);
      expect(await cache.validateAccessToken('pending-a0')).toMatchObject({
        userId: 'pending-user',
        familyId,
        resource: 'https://mcp.example/mcp',
        userData: { login: 'pending-user', password: 'pending-secret' },
      });
      expect((await cache.getTokensForUser('pending-user')).map((t) => t.familyId)).toEqual([
        familyId,
        familyId,
      ]);
      const rotated = await cache.rotateRefreshToken('pending-r0');
      expect(rotated.info.familyId).toBe(familyId);
      // Revoking the user takes the grant that began as a code: the first access token and the
      // rotated pair.
      expect(await cache.revokeUserTokens('pending-user')).toBe(3);
      expect((await stored(cache, store())).has(`g:${familyId}`)).toBe(false);
    });
  }

  for (const level of ['enhanced', 'maximum'] as const) {
    it(`a retry record links to the grant, and a retry's pair joins it (${level})`, async () => {
      const cache = open({ securityLevel: level, reuseLeewayMs: 2000 });
      const info = await cache.storeToken({
        userId: 'retry-user',
        accessToken: 'retry-a0',
        refreshToken: 'retry-r0',
        clientId: 'client-r',
        scopes: ['read', 'write'],
        userData: { password: 'retry-secret' },
      });
      const first = await cache.rotateRefreshToken('retry-r0', {
        clientId: 'client-r',
        issue: () => ({ accessToken: 'retry-a1', refreshToken: 'retry-r1', scopes: ['read'] }),
      });
      const records = await stored(cache, store());
      const retry = records.get(`rr:${cache.digest('retry-r0')}`)!;
      // Its kind, expiry, grant id, the grant key wrapped under the presented token, and its own
      // part (the pair issued, the narrowed scope) sealed with the server key: no credentials.
      expect(retry).toMatchObject({ kind: 'consumed', g: info.familyId, wk: expect.any(String) });
      expect(beyondLinkedLayout(retry)).toEqual([]);
      expect(JSON.stringify([...records.values()])).not.toContain('retry-secret');
      // The client lost the response and presents the same token again: a new pair in the grant.
      const again = await cache.rotateRefreshToken('retry-r0', { clientId: 'client-r' });
      expect(again.info.familyId).toBe(info.familyId);
      // (Issued from what the presented token held: its scopes, not the first rotation's choice.)
      expect(await cache.validateAccessToken(again.tokens.accessToken)).toMatchObject({
        familyId: info.familyId,
        scopes: ['read', 'write'],
        userData: { password: 'retry-secret' },
      });
      expect(await cache.validateAccessToken(first.tokens.accessToken)).toBeNull();
      expect(only(await stored(cache, store()), 'g:')).toHaveLength(1);
    });
  }

  it('a rotation wraps the same grant for the new pair; a narrowed scope is the new tokens own', async () => {
    const cache = open({ securityLevel: 'maximum', refreshTokenTtl: 3600, tokenTtl: 60 });
    const info = await cache.storeToken({
      userId: 'rot-user',
      accessToken: 'rot-a0',
      refreshToken: 'rot-r0',
      scopes: ['read', 'write'],
      userData: { password: 'rot-secret' },
      refreshExpiresIn: 600,
    });
    const before = (await stored(cache, store())).get(`g:${info.familyId}`)!;
    const rotated = await cache.rotateRefreshToken('rot-r0', {
      issue: () => ({ accessToken: 'rot-a1', refreshToken: 'rot-r1', scopes: ['read'] }),
    });
    expect(rotated.info.familyId).toBe(info.familyId);
    const after = await stored(cache, store());
    const grant = after.get(`g:${info.familyId}`)!;
    // The same grant, kept as long as the new refresh token lives.
    expect(grant.gp).toBe(before.gp);
    expect(grant.sealed).toBe(before.sealed);
    expect(grant.exp).toBe(rotated.info.refreshExpiresAt);
    expect(grant.exp).toBeGreaterThan(before.exp);
    expect(only(after, 'g:')).toHaveLength(1);
    expect(await cache.validateAccessToken('rot-a1')).toMatchObject({
      scopes: ['read'],
      userData: { password: 'rot-secret' },
    });
    // The access token issued before keeps the grant's scopes.
    expect((await cache.validateAccessToken('rot-a0'))?.scopes).toEqual(['read', 'write']);
    expect((await cache.inspectRefreshToken('rot-r1'))?.scopes).toEqual(['read']);
    const second = await cache.rotateRefreshToken('rot-r1');
    expect((await cache.validateAccessToken(second.tokens.accessToken))?.scopes).toEqual(['read']);
  });

  it('revoking a grant deletes its record; a token whose grant is gone does not validate', async () => {
    const cache = open({ securityLevel: 'maximum' });
    const a = await cache.storeToken({ userId: 'gone', accessToken: 'gone-a0', refreshToken: 'gone-r0' });
    const b = await cache.storeToken({ userId: 'gone', accessToken: 'gone-a1' });
    await cache.revokeFamily(a.familyId);
    const records = await stored(cache, store());
    expect(records.has(`g:${a.familyId}`)).toBe(false);
    expect(records.has(`g:${b.familyId}`)).toBe(true);
    // A grant deleted under a live token (as a revocation in flight would leave it) takes it down.
    expect(await cache.validateAccessToken('gone-a1')).not.toBeNull();
    await store().delete(`${cache.config.prefix}g:${b.familyId}`);
    expect(await cache.validateAccessToken('gone-a1')).toBeNull();
  });

  it('a token record swapped to another grant does not open (its wrapped key is for its own)', async () => {
    const cache = open({ securityLevel: 'maximum' });
    const mine = await cache.storeToken({ userId: 'm', accessToken: 'swap-a0', userData: { p: 'mine' } });
    const theirs = await cache.storeToken({ userId: 't', accessToken: 'swap-a1', userData: { p: 'theirs' } });
    const prefix = cache.config.prefix;
    const records = await stored(cache, store());
    const [key, record] = [...records].find(([k, v]) => k.startsWith('at:') && v.g === mine.familyId)!;
    await store().set(`${prefix}${key}`, { ...record, g: theirs.familyId }, 60_000);
    // A fresh process (no memo of the honest record).
    const other = open({ securityLevel: 'maximum' });
    expect(await other.validateAccessToken('swap-a0')).toBeNull();
  });

  it('a batch shares one grant among inputs of one family, and never replaces a grant under its live tokens', async () => {
    const cache = open({ securityLevel: 'maximum' });
    const held = await cache.storeToken({ userId: 'b', accessToken: 'batch-a0', userData: { p: 0 } });
    const [first, second, third] = await cache.storeTokens([
      { userId: 'b', accessToken: 'batch-a1', familyId: 'fam-batch', userData: { p: 1 } },
      {
        userId: 'b',
        refreshToken: 'batch-r1',
        familyId: 'fam-batch',
        userData: { p: 1 },
        refreshExpiresIn: 900,
      },
      { userId: 'b', accessToken: 'batch-a2', familyId: held.familyId, userData: { p: 2 } },
    ]);
    expect([first!.familyId, second!.familyId, third!.familyId]).toEqual([
      'fam-batch',
      'fam-batch',
      held.familyId,
    ]);
    const records = await stored(cache, store());
    expect(only(records, 'g:')).toHaveLength(2);
    // Written as one batch, the shared grant lives as long as the longest of its tokens (one by
    // one, without `writeBatch`, the second input joins an existing grant: self-contained).
    if (store().writeBatch) expect(records.get('g:fam-batch')?.exp).toBe(second!.refreshExpiresAt);
    expect((await cache.validateAccessToken('batch-a1'))?.userData).toEqual({ p: 1 });
    expect((await cache.inspectRefreshToken('batch-r1'))?.familyId).toBe('fam-batch');
    // The grant that existed keeps its key: its token still opens; the one joined holds its own.
    expect((await cache.validateAccessToken('batch-a0'))?.userData).toEqual({ p: 0 });
    expect((await cache.validateAccessToken('batch-a2'))?.userData).toEqual({ p: 2 });
    const rotated = await cache.rotateRefreshToken('batch-r1');
    expect((await cache.validateAccessToken(rotated.tokens.accessToken))?.userData).toEqual({ p: 1 });
  });

  it('storeTokens with selfContained writes no grant record; a rotation moves the grant to one', async () => {
    const cache = open({ securityLevel: 'maximum' });
    await cache.storeTokens(
      [
        { userId: 's', accessToken: 'self-a0', userData: { p: 'a' } },
        { userId: 's', refreshToken: 'self-r0', userData: { p: 'r' } },
      ],
      { evict: false, selfContained: true },
    );
    let records = await stored(cache, store());
    expect(only(records, 'g:')).toHaveLength(0);
    for (const t of [...only(records, 'at:'), ...only(records, 'rt:')]) {
      expect(t.g).toBeUndefined();
      expect(t.pv).toMatch(/^t1\./);
    }
    expect((await cache.validateAccessToken('self-a0'))?.userData).toEqual({ p: 'a' });
    const rotated = await cache.rotateRefreshToken('self-r0');
    records = await stored(cache, store());
    expect(only(records, 'g:')).toHaveLength(1);
    expect(records.get(`g:${rotated.info.familyId}`)?.gp).toMatch(/^g1\./);
    expect((await cache.validateAccessToken(rotated.tokens.accessToken))?.userData).toEqual({ p: 'r' });
  });

  it('a grant joined without one of its tokens (explicit family) gets tokens that hold everything', async () => {
    const cache = open({ securityLevel: 'maximum' });
    const first = await cache.storeToken({ userId: 'j', accessToken: 'join-a0', userData: { p: 1 } });
    await cache.storeToken({
      userId: 'j',
      accessToken: 'join-a1',
      familyId: first.familyId,
      userData: { p: 2 },
    });
    expect((await cache.validateAccessToken('join-a0'))?.userData).toEqual({ p: 1 });
    expect((await cache.validateAccessToken('join-a1'))?.userData).toEqual({ p: 2 });
    const tokens = only(await stored(cache, store()), 'at:');
    expect(tokens.filter((t) => t.g === first.familyId)).toHaveLength(1);
    expect(tokens.filter((t) => typeof t.pv === 'string')).toHaveLength(1);
    // A self-contained refresh token of that family rotates into self-contained tokens: the grant
    // (and the token linked to it) stays as it was.
    await cache.storeToken({
      userId: 'j',
      refreshToken: 'join-r1',
      familyId: first.familyId,
      userData: { p: 3 },
    });
    const rotated = await cache.rotateRefreshToken('join-r1');
    expect(rotated.info.familyId).toBe(first.familyId);
    expect((await cache.validateAccessToken(rotated.tokens.accessToken))?.userData).toEqual({ p: 3 });
    expect((await cache.validateAccessToken('join-a0'))?.userData).toEqual({ p: 1 });
    expect(await cache.revokeFamily(first.familyId)).toBe(4);
    expect(await cache.validateAccessToken('join-a1')).toBeNull();
    expect(await cache.validateAccessToken('join-a0')).toBeNull();
  });
}
