import { afterEach, describe, expect, it } from 'vitest';
import {
  createTokenCache,
  MemoryStore,
  type SecurityEvent,
  type SecurityLevel,
  type TokenCache,
} from '../src/index.js';

const SECRET = Buffer.alloc(32, 7).toString('base64');
const KEYS = `k1:${Buffer.alloc(32, 9).toString('base64')}`;
const PASSWORD = '1C-password-never-shown';
const actor = { operator: 'console', address: '10.0.0.7' };

const caches: TokenCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.close()));
});

/** A cache on a memory store whose clock moves 1 s per call, so issue times differ. */
function open(securityLevel: SecurityLevel = 'enhanced') {
  let t = Date.now();
  const cache = createTokenCache({
    store: new MemoryStore(),
    environment: 'test',
    securityLevel,
    secret: SECRET,
    encryptionKeys: KEYS,
    maxTokens: 10_000,
    maxGrantsPerUser: 10,
    autoCleanup: false,
    now: () => (t += 1000),
  });
  caches.push(cache);
  const events: SecurityEvent[] = [];
  cache.events.on('security', (e) => events.push(e));
  return { cache, events };
}

/** ivanov: three grants (one bound to a session), two sessions; petrov: two grants. */
async function seed(cache: TokenCache) {
  const session = await cache.createSession('ivanov', { device: 'laptop' });
  const other = await cache.createSession('ivanov');
  const g1 = await cache.storeToken({
    userId: 'ivanov',
    accessToken: 'iv-at-1',
    refreshToken: 'iv-rt-1',
    clientId: 'claude',
    scopes: ['mcp', 'read'],
    resource: 'https://mcp.example/mcp',
    sessionId: session.id,
    userData: { login: 'ivanov', password: PASSWORD },
  });
  const g2 = await cache.storeToken({
    userId: 'ivanov',
    accessToken: 'iv-at-2',
    refreshToken: 'iv-rt-2',
    clientId: 'cursor',
    scopes: ['mcp'],
    userData: { login: 'ivanov', password: PASSWORD },
  });
  const g3 = await cache.storeToken({ userId: 'ivanov', accessToken: 'iv-at-3', clientId: 'cli' });
  const p1 = await cache.storeToken({
    userId: 'petrov',
    accessToken: 'pe-at-1',
    refreshToken: 'pe-rt-1',
    clientId: 'claude',
    userData: { login: 'petrov', password: PASSWORD },
  });
  const p2 = await cache.storeToken({ userId: 'petrov', accessToken: 'pe-at-2', refreshToken: 'pe-rt-2' });
  return { session, other, g1, g2, g3, p1, p2 };
}

/** Everything secret the seed wrote: raw tokens, token ids, session ids, the 1C password. */
function secretsOf(seeded: Awaited<ReturnType<typeof seed>>): string[] {
  const ids = [seeded.g1, seeded.g2, seeded.g3, seeded.p1, seeded.p2].flatMap((g) =>
    [g.accessTokenId, g.refreshTokenId].filter((x): x is string => x !== undefined),
  );
  return [
    PASSWORD,
    ...['iv-at-1', 'iv-rt-1', 'iv-at-2', 'iv-rt-2', 'iv-at-3', 'pe-at-1', 'pe-rt-1', 'pe-at-2', 'pe-rt-2'],
    ...ids,
    seeded.session.id,
    seeded.other.id,
  ];
}

describe('GrantDirectory (memory store)', () => {
  it('lists users most recently active first, with counts and logins', async () => {
    const { cache } = open();
    const seeded = await seed(cache);
    const page = await cache.directory.listUsers();
    expect(page.total).toBe(2);
    expect(page.next).toBeUndefined();
    // petrov's tokens were stored last: his latest expiry is the latest.
    expect(page.users).toEqual([
      {
        userHash: cache.directory.userHashOf('petrov'),
        userId: 'petrov',
        grants: 2,
        sessions: 0,
        expiresAt: expect.any(Number),
      },
      {
        userHash: cache.directory.userHashOf('ivanov'),
        userId: 'ivanov',
        grants: 3,
        sessions: 2,
        expiresAt: expect.any(Number),
      },
    ]);
    expect(page.users[0]!.expiresAt).toBeGreaterThanOrEqual(page.users[1]!.expiresAt);
    const json = JSON.stringify(page);
    for (const secret of secretsOf(seeded)) expect(json).not.toContain(secret);
  });

  it('pages with an opaque cursor: every user once, in order, total on every page', async () => {
    const { cache } = open();
    await seed(cache);
    for (let i = 0; i < 7; i++) await cache.storeToken({ userId: `user-${i}`, accessToken: `u-at-${i}` });
    const all = await cache.directory.listUsers({ limit: 200 });
    expect(all.users).toHaveLength(9);
    expect(all.next).toBeUndefined();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await cache.directory.listUsers(cursor ? { limit: 2, cursor } : { limit: 2 });
      expect(page.total).toBe(9);
      expect(page.users.length).toBeLessThanOrEqual(2);
      seen.push(...page.users.map((u) => u.userHash));
      cursor = page.next;
      if (cursor !== undefined) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      pages += 1;
    } while (cursor !== undefined && pages < 20);
    expect(pages).toBe(5);
    expect(seen).toEqual(all.users.map((u) => u.userHash));
    const scores = all.users.map((u) => u.expiresAt);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('getUser: grants with client, scopes, resource, session digest, times, rotations; sessions', async () => {
    const { cache } = open();
    const seeded = await seed(cache);
    const rotated = await cache.rotateRefreshToken('iv-rt-2', { clientId: 'cursor' });
    const detail = await cache.directory.getUser(cache.directory.userHashOf('ivanov'));
    expect(detail).not.toBeNull();
    const { user, grants, sessions } = detail!;
    expect(user).toMatchObject({ userId: 'ivanov', grants: 3, sessions: 2 });
    expect(user.userHash).toBe(cache.directory.userHashOf('ivanov'));
    const sessionRefs = (await cache.getSessionsForUser('ivanov')).map((s) => s.ref);
    expect(sessions.map((s) => s.ref).sort()).toEqual([...sessionRefs].sort());

    const g1 = grants.find((g) => g.id === seeded.g1.familyId)!;
    expect(g1).toMatchObject({
      clientId: 'claude',
      scopes: ['mcp', 'read'],
      resource: 'https://mcp.example/mcp',
      rotations: 0,
      liveTokens: 2,
    });
    expect(sessionRefs).toContain(g1.sessionRef);
    expect(g1.createdAt).toBe(g1.lastIssuedAt);
    expect(g1.expiresAt).toBe(seeded.g1.refreshExpiresAt);
    expect(sessions.find((s) => s.ref === g1.sessionRef)?.grants).toBe(1);
    expect(sessions.find((s) => s.ref !== g1.sessionRef)?.grants).toBe(0);

    const g2 = grants.find((g) => g.id === seeded.g2.familyId)!;
    expect(g2).toMatchObject({ clientId: 'cursor', scopes: ['mcp'], rotations: 1 });
    expect(g2.sessionRef).toBeUndefined();
    expect(g2.expiresAt).toBe(rotated.info.refreshExpiresAt);
    expect(g2.lastIssuedAt!).toBeGreaterThanOrEqual(g2.createdAt!);
    // The rotation is the latest issuance: that grant comes first.
    expect(grants[0]!.id).toBe(seeded.g2.familyId);

    const g3 = grants.find((g) => g.id === seeded.g3.familyId)!;
    expect(g3).toMatchObject({ clientId: 'cli', liveTokens: 1, rotations: 0 });
    expect(user.expiresAt).toBe(
      Math.max(...grants.map((g) => g.expiresAt), ...sessions.map((s) => s.expiresAt), user.expiresAt),
    );

    const json = JSON.stringify(detail);
    for (const secret of [...secretsOf(seeded), rotated.tokens.accessToken, rotated.info.accessTokenId!]) {
      expect(json).not.toContain(secret);
    }
    expect(json).not.toContain('laptop');
  });

  it('revokeGrant: the grant goes (one event naming the operator), the other still validates', async () => {
    const { cache, events } = open();
    const seeded = await seed(cache);
    const iv = cache.directory.userHashOf('ivanov');
    const pe = cache.directory.userHashOf('petrov');
    // Not petrov's grant: nothing happens.
    expect(await cache.directory.revokeGrant(pe, seeded.g2.familyId, actor)).toBe(0);
    expect(await cache.validateAccessToken('iv-at-2')).not.toBeNull();
    expect(events.filter((e) => e.type === 'operator_revoked')).toEqual([]);

    expect(await cache.directory.revokeGrant(iv, seeded.g2.familyId, actor)).toBe(2);
    expect(await cache.validateAccessToken('iv-at-2')).toBeNull();
    expect(await cache.inspectRefreshToken('iv-rt-2')).toBeNull();
    await expect(cache.rotateRefreshToken('iv-rt-2')).rejects.toThrow();
    expect((await cache.validateAccessToken('iv-at-1'))?.userId).toBe('ivanov');
    expect(await cache.validateAccessToken('pe-at-1')).not.toBeNull();
    expect(events.filter((e) => e.type === 'operator_revoked')).toEqual([
      {
        type: 'operator_revoked',
        reason: 'grant',
        userHash: iv,
        familyId: seeded.g2.familyId,
        actor: 'console',
        clientAddress: '10.0.0.7',
        at: expect.any(Number),
      },
    ]);
    const detail = await cache.directory.getUser(iv);
    expect(detail!.grants.map((g) => g.id).sort()).toEqual([seeded.g1.familyId, seeded.g3.familyId].sort());
    expect(detail!.user.grants).toBe(2);
    expect((await cache.directory.listUsers()).users.find((u) => u.userHash === iv)?.grants).toBe(2);
    // Again: no longer one of the user's grants.
    expect(await cache.directory.revokeGrant(iv, seeded.g2.familyId, actor)).toBe(0);
  });

  it('revokeSession: by its digest, with the grant bound to it; other grants validate', async () => {
    const { cache, events } = open();
    const seeded = await seed(cache);
    const iv = cache.directory.userHashOf('ivanov');
    const detail = await cache.directory.getUser(iv);
    const bound = detail!.grants.find((g) => g.id === seeded.g1.familyId)!.sessionRef!;
    // Not petrov's session.
    expect(await cache.directory.revokeSession(cache.directory.userHashOf('petrov'), bound, actor)).toBe(
      false,
    );
    expect(await cache.directory.revokeSession(iv, bound, { operator: 'alice' })).toBe(true);
    expect(await cache.getSession(seeded.session.id)).toBeNull();
    expect(await cache.getSession(seeded.other.id)).not.toBeNull();
    expect(await cache.validateAccessToken('iv-at-1')).toBeNull();
    expect(await cache.validateAccessToken('iv-at-2')).not.toBeNull();
    expect(events.filter((e) => e.type === 'operator_revoked')).toEqual([
      { type: 'operator_revoked', reason: 'session', userHash: iv, actor: 'alice', at: expect.any(Number) },
    ]);
    const after = await cache.directory.getUser(iv);
    expect(after!.sessions.map((s) => s.ref)).not.toContain(bound);
    expect(after!.user.sessions).toBe(1);
    expect(await cache.directory.revokeSession(iv, bound, actor)).toBe(false);
  });

  it('revokeUser: every token and session of the user, out of the listing; the other user untouched', async () => {
    const { cache, events } = open();
    const seeded = await seed(cache);
    const iv = cache.directory.userHashOf('ivanov');
    // 5 tokens and 2 sessions.
    expect(await cache.directory.revokeUser(iv, actor)).toBe(7);
    for (const token of ['iv-at-1', 'iv-at-2', 'iv-at-3'])
      expect(await cache.validateAccessToken(token)).toBeNull();
    expect(await cache.inspectRefreshToken('iv-rt-1')).toBeNull();
    expect(await cache.getSession(seeded.session.id)).toBeNull();
    expect(await cache.getSession(seeded.other.id)).toBeNull();
    expect(await cache.validateAccessToken('pe-at-2')).not.toBeNull();
    expect(await cache.directory.getUser(iv)).toBeNull();
    const page = await cache.directory.listUsers();
    expect(page.users.map((u) => u.userId)).toEqual(['petrov']);
    expect(page.total).toBe(1);
    expect(events.filter((e) => e.type === 'operator_revoked')).toEqual([
      {
        type: 'operator_revoked',
        reason: 'user',
        userHash: iv,
        actor: 'console',
        clientAddress: '10.0.0.7',
        at: expect.any(Number),
      },
    ]);
    expect(await cache.directory.revokeUser(iv, actor)).toBe(0);
    expect(events.filter((e) => e.type === 'operator_revoked')).toHaveLength(1);
  });

  it('bad input: null, 0, false or a TypeError, never a crash', async () => {
    const { cache } = open();
    await seed(cache);
    const d = cache.directory;
    const iv = d.userHashOf('ivanov');
    for (const bad of ['', 'nope', 'x'.repeat(43), '../../etc', 42, null, undefined]) {
      expect(await d.getUser(bad as string)).toBeNull();
      expect(await d.revokeUser(bad as string, actor)).toBe(0);
      expect(await d.revokeGrant(bad as string, 'fam', actor)).toBe(0);
      expect(await d.revokeSession(iv, bad as string, actor)).toBe(false);
      expect(await d.revokeGrant(iv, bad as string, actor)).toBe(0);
    }
    const garbage = Buffer.from('{"a":1}').toString('base64url');
    for (const cursor of ['!!', 'not a cursor', garbage, Buffer.from('[1]').toString('base64url'), '', 7]) {
      await expect(d.listUsers({ cursor: cursor as string })).rejects.toBeInstanceOf(TypeError);
    }
    for (const limit of [0, -1, 1.5, Number.NaN, '10']) {
      await expect(d.listUsers({ limit: limit as number })).rejects.toBeInstanceOf(TypeError);
    }
    expect((await d.listUsers({ limit: 10_000 })).users).toHaveLength(2);
    for (const who of [undefined, null, {}, { operator: '' }, { operator: 'x', address: 5 }]) {
      await expect(d.revokeUser(iv, who as never)).rejects.toBeInstanceOf(TypeError);
    }
    // Nothing was revoked by any of it.
    expect(await cache.validateAccessToken('iv-at-1')).not.toBeNull();
    expect(d.userHashOf('ivanov')).toBe(iv);
    expect(() => d.userHashOf('')).toThrow();
  });

  it('at maximum: no login from token records, nothing from userData, in any result', async () => {
    const { cache, events } = open('maximum');
    const seeded = await seed(cache);
    const d = cache.directory;
    const page = await d.listUsers();
    const pe = page.users.find((u) => u.userHash === d.userHashOf('petrov'))!;
    // petrov holds tokens only: at maximum a token record names its user to its holder alone.
    expect(pe.userId).toBeUndefined();
    const detailPe = await d.getUser(pe.userHash);
    expect(detailPe!.user.userId).toBeUndefined();
    expect(detailPe!.grants).toHaveLength(2);
    expect(detailPe!.grants.find((g) => g.id === seeded.p1.familyId)).toMatchObject({
      clientId: 'claude',
      liveTokens: 2,
    });
    const detailIv = await d.getUser(d.userHashOf('ivanov'));
    const results: unknown[] = [page, detailPe, detailIv];
    results.push(await d.revokeGrant(pe.userHash, seeded.p2.familyId, actor));
    results.push(await d.revokeSession(d.userHashOf('ivanov'), detailIv!.sessions[0]!.ref, actor));
    results.push(await d.revokeUser(d.userHashOf('ivanov'), actor));
    results.push(await d.listUsers());
    results.push(events.filter((e) => e.type === 'operator_revoked'));
    const json = JSON.stringify(results);
    for (const secret of secretsOf(seeded)) expect(json).not.toContain(secret);
    expect(json).not.toContain('petrov');
    expect(await cache.validateAccessToken('pe-at-1')).not.toBeNull();
    expect(await cache.validateAccessToken('pe-at-2')).toBeNull();
  });
});
