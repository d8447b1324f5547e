import { randomBytes } from 'node:crypto';
import { createTokenCache, type TokenCache } from '@oauth-cache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../src/create-store.js';
import {
  type CommandSpan,
  parseCommandCalls,
  RedisCommandMonitor,
  type RedisServerHandle,
  startRedisServer,
} from '../src/testing/index.js';
import { adminClient, freshDbUrl } from './support/redis-admin.js';

/**
 * Round trips to Redis per token operation (issue 17): at most this many requests the client waits
 * on, for ONE call on a warm cache (scripts loaded), production preset, no L1, no session. Every
 * operation is one atomic store operation (one script call) preceded by at most one read.
 */
const MAX_ROUND_TRIPS = {
  /** validateAccessToken of a well-formed token nobody issued: one GET. */
  'validate-miss': 1,
  /** validateAccessToken of a live access token, no session bound: one GET. */
  'validate-hit': 1,
  /** storeToken (access + refresh) for a user who already holds a grant: read, then commit. */
  issue: 2,
  /**
   * storeToken into a family the caller names (the authorization server's code redemption): read,
   * then commit, whose precondition judges whether that family's grant exists.
   */
  'issue (named family)': 2,
  /** storePendingGrant (an authorization code): one commit of the grant and the code's record. */
  'store pending grant': 1,
  /** openPendingGrant: the code's record with its grant, one script call. */
  'open pending grant': 1,
  /** storeToken joining a pending grant (the code's redemption): read, then commit. */
  'issue (pending grant)': 2,
  /** rotateRefreshToken with clientId: read, then commit. */
  rotate: 2,
  /** revokeFamily of a live grant: read the family, commit (and at most one more). */
  'revoke grant': 3,
  /** revokeUserTokens of a user holding two grants. */
  'revoke user': 4,
} as const;

type Operation = keyof typeof MAX_ROUND_TRIPS;

/*
 * How round trips are counted: a `MONITOR` connection (see `RedisCommandMonitor`). `INFO
 * commandstats` cannot tell them apart: Redis counts the commands a Lua script runs under their own
 * names, so one EVALSHA running ten commands shows eleven calls (checked by the first test below),
 * and Redis 7.0 (the server here) has no per-client command counter. The MONITOR feed marks
 * commands run inside scripts with `lua` as the sender, so the commands the cache's client sent are
 * counted apart from them; a MULTI … EXEC block counts one.
 */

let server: RedisServerHandle;
let monitor: RedisCommandMonitor;
let cache: TokenCache;
const measured = new Map<Operation, CommandSpan>();

const secret = Buffer.alloc(32, 7);
const encryptionKeys = [{ kid: 'k1', key: Buffer.alloc(32, 9) }];
/** A fresh token in the shape a client would present (32 random bytes, base64url). */
const token = () => randomBytes(32).toString('base64url');

/** Issue a grant (access + refresh) for `userId`. */
function issueGrant(userId: string) {
  const accessToken = token();
  const refreshToken = token();
  return cache
    .storeToken({ userId, accessToken, refreshToken, clientId: 'client-1', scopes: ['mcp'] })
    .then((info) => ({ ...info, accessToken, refreshToken }));
}

/** Measure `call` and keep its span for the summary table. */
async function measure<T>(operation: Operation, call: () => Promise<T>): Promise<T> {
  const { result, span } = await monitor.measure(call);
  measured.set(operation, span);
  return result;
}

/** The span's round trips are within the table's target, and at least one (it asked Redis). */
function expectWithinTarget(operation: Operation): void {
  const span = measured.get(operation);
  expect(span, `${operation} was measured`).toBeDefined();
  const roundTrips = span?.roundTrips ?? 0;
  expect(roundTrips, `${operation}: ${span?.clientCommands.join(' ')}`).toBeGreaterThanOrEqual(1);
  expect(roundTrips, `${operation}: ${span?.clientCommands.join(' ')}`).toBeLessThanOrEqual(
    MAX_ROUND_TRIPS[operation],
  );
}

beforeAll(async () => {
  server = await startRedisServer();
  const store = await createStore(await freshDbUrl(server.url));
  cache = createTokenCache({ store, environment: 'production', secret, encryptionKeys, autoCleanup: false });
  // The store's keep-alive PING (once a second) belongs to no operation.
  monitor = await RedisCommandMonitor.start({ port: server.port, ignoreCommands: ['ping'] });
  // Warm-up: node-redis loads each script on its first call (EVALSHA, NOSCRIPT, EVAL); every
  // operation measured below runs once here so the measured calls hit loaded scripts.
  const warm = await issueGrant('warm-up');
  await issueGrant('warm-up');
  await cache.validateAccessToken(token());
  await cache.validateAccessToken(warm.accessToken);
  const rotated = await cache.rotateRefreshToken(warm.refreshToken, { clientId: 'client-1' });
  await cache.revokeFamily(rotated.info.familyId);
  await cache.revokeUserTokens('warm-up');
});

afterAll(async () => {
  // The figures for the report, whether or not the targets hold yet.
  const rows = [...measured].map(([operation, span]) => ({
    operation,
    roundTrips: span.roundTrips,
    target: MAX_ROUND_TRIPS[operation],
    clientCommands: span.clientCommands.join(' '),
    insideScripts: span.scriptCommands.length,
  }));
  if (rows.length > 0) console.table(rows);
  await monitor?.close();
  await cache?.close();
  await server?.stop();
});

describe('round trips per token operation on Redis (MONITOR)', () => {
  it('the monitor counts one script call as one round trip, though commandstats counts its inner commands', async () => {
    const raw = await adminClient(server.url);
    try {
      await raw.configResetStat();
      const { span } = await monitor.measure(() =>
        raw.eval("redis.call('SET', KEYS[1], '1'); return redis.call('GET', KEYS[1])", {
          keys: ['oc-monitor-self-check'],
        }),
      );
      expect(span).toEqual({ clientCommands: ['eval'], scriptCommands: ['set', 'get'], roundTrips: 1 });
      const calls = parseCommandCalls(await raw.info('commandstats'));
      expect([calls.eval, calls.set, calls.get]).toEqual([1, 1, 1]);

      const { span: multi } = await monitor.measure(() =>
        raw.multi().set('oc-monitor-self-check', '2').get('oc-monitor-self-check').exec(),
      );
      expect(multi.clientCommands).toEqual(['multi', 'set', 'get', 'exec']);
      expect(multi.roundTrips).toBe(1);
      await raw.del('oc-monitor-self-check');
    } finally {
      raw.destroy();
    }
  });

  it('validate-miss: an unknown well-formed token', async () => {
    const result = await measure('validate-miss', () => cache.validateAccessToken(token()));
    expect(result).toBeNull();
    expectWithinTarget('validate-miss');
  });

  it('validate-hit: a live access token, no session', async () => {
    const grant = await issueGrant('hit-user');
    const result = await measure('validate-hit', () => cache.validateAccessToken(grant.accessToken));
    expect(result).toMatchObject({ valid: true, userId: 'hit-user', familyId: grant.familyId });
    expectWithinTarget('validate-hit');
  });

  it('issue: access + refresh for a user who already holds one grant', async () => {
    await issueGrant('issue-user');
    const accessToken = token();
    const info = await measure('issue', () =>
      cache.storeToken({
        userId: 'issue-user',
        accessToken,
        refreshToken: token(),
        clientId: 'client-1',
        scopes: ['mcp'],
      }),
    );
    expect(info.refreshTokenId).toBeDefined();
    expect(await cache.validateAccessToken(accessToken)).toMatchObject({ userId: 'issue-user' });
    expectWithinTarget('issue');
  });

  it('issue (named family): a new grant whose id the caller chose', async () => {
    await issueGrant('named-user');
    const accessToken = token();
    const familyId = token();
    const info = await measure('issue (named family)', () =>
      cache.storeToken({ userId: 'named-user', accessToken, refreshToken: token(), familyId }),
    );
    expect(info.familyId).toBe(familyId);
    expect(await cache.validateAccessToken(accessToken)).toMatchObject({ familyId });
    expectWithinTarget('issue (named family)');
  });

  it('a code: store its pending grant, open it, issue tokens into it', async () => {
    const code = token();
    const familyId = await measure('store pending grant', () =>
      cache.storePendingGrant({
        code,
        key: `x:code:${cache.digest(code)}`,
        expiresIn: 120,
        userId: 'code-user',
        clientId: 'client-1',
        userData: { password: 'code-secret' },
      }),
    );
    const pending = await measure('open pending grant', () =>
      cache.openPendingGrant(code, `x:code:${cache.digest(code)}`),
    );
    expect(pending?.familyId).toBe(familyId);
    const accessToken = token();
    await measure('issue (pending grant)', () =>
      cache.storeToken({ userId: 'code-user', clientId: 'client-1', accessToken, pendingGrant: pending! }),
    );
    expect(await cache.validateAccessToken(accessToken)).toMatchObject({
      familyId,
      userData: { password: 'code-secret' },
    });
    expectWithinTarget('store pending grant');
    expectWithinTarget('open pending grant');
    expectWithinTarget('issue (pending grant)');
  });

  it('rotate: a live refresh token, with its client id', async () => {
    const grant = await issueGrant('rotate-user');
    const rotated = await measure('rotate', () =>
      cache.rotateRefreshToken(grant.refreshToken, { clientId: 'client-1' }),
    );
    expect(rotated.info.familyId).toBe(grant.familyId);
    expect(await cache.validateAccessToken(rotated.tokens.accessToken)).toMatchObject({
      userId: 'rotate-user',
    });
    expectWithinTarget('rotate');
  });

  it('revoke grant: revokeFamily of a live grant', async () => {
    const grant = await issueGrant('family-user');
    const count = await measure('revoke grant', () => cache.revokeFamily(grant.familyId));
    expect(count).toBeGreaterThanOrEqual(2);
    expect(await cache.validateAccessToken(grant.accessToken)).toBeNull();
    expectWithinTarget('revoke grant');
  });

  it('revoke user: revokeUserTokens of a user holding two grants', async () => {
    const first = await issueGrant('revoked-user');
    const second = await issueGrant('revoked-user');
    const count = await measure('revoke user', () => cache.revokeUserTokens('revoked-user'));
    expect(count).toBeGreaterThanOrEqual(4);
    expect(await cache.validateAccessToken(first.accessToken)).toBeNull();
    expect(await cache.validateAccessToken(second.accessToken)).toBeNull();
    expectWithinTarget('revoke user');
  });
});
