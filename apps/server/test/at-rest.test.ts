/**
 * A leak of the store plus every secret of the server's environment reveals no 1C password (and,
 * at `maximum`, no 1C login), while every token keeps working through the server: the 1C
 * credentials of a grant are sealed under a random key of that grant, which each of its token
 * records (and its authorization code's record) holds wrapped under a key derived from that
 * token or code; the store holds neither tokens nor codes.
 *
 * The "attacker" gets the raw SQLite file (with its WAL) or every value of a Redis dump, plus
 * OAUTH_CACHE_SECRET and OAUTH_CACHE_ENCRYPTION_KEYS, and opens every record with those keys the
 * way the server's own code would (`readStoredRecord`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { configFromEnv, createTokenCache, type TokenCache } from '@oauth-cache/core';
import { createStore } from '@oauth-cache/keyv';
import { type RedisServerHandle, startRedisServer } from '@oauth-cache/keyv/testing';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { type Harness, loginForRedirect, obtainTokens, startHarness } from './support/harness.js';

const USER = { login: 'leak-test-kuznetsova', password: 'Пароль-at-rest-7f3c9a', fullName: 'Кузнецова' };

/** What the attacker reads: every stored byte, as text. */
type Dump = () => Promise<string>;

async function mcpUser(publicUrl: string, accessToken: string): Promise<string> {
  const client = new Client({ name: 'at-rest-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${publicUrl}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${accessToken}` } },
  });
  await client.connect(transport);
  try {
    const result = await client.callTool({ name: 'get_current_user', arguments: {} });
    return JSON.stringify(result);
  } finally {
    await client.close();
  }
}

/** Leave an authorization code unredeemed in the store (its record holds the credentials too). */
async function pendingCode(publicUrl: string): Promise<void> {
  const redirect = 'http://127.0.0.1:41001/cb';
  const reg = await fetch(`${publicUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirect] }),
  });
  const { client_id } = (await reg.json()) as { client_id: string };
  const url = `${publicUrl}/authorize?${new URLSearchParams({
    client_id,
    redirect_uri: redirect,
    response_type: 'code',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  })}`;
  const callback = await loginForRedirect(url, USER.login, USER.password);
  expect(callback.searchParams.get('code')).toBeTruthy();
}

/** Every record the server's keys open, as text (the token-sealed parts stay closed). */
async function openedWithServerKeys(env: Record<string, string>): Promise<string> {
  const config = configFromEnv(env, { cleanupInterval: 0 });
  const store = await createStore(env.OAUTH_CACHE_STORE!, { prefix: config.prefix });
  const cache: TokenCache = createTokenCache({ config, store, autoCleanup: false });
  const opened: string[] = [];
  let records = 0;
  let grants = 0;
  try {
    for await (const record of cache.exportRecords()) {
      records++;
      opened.push(JSON.stringify(cache.readStoredRecord(record.key, record.value) ?? null));
      const value = record.value as Record<string, unknown>;
      if (record.key.startsWith('g:')) {
        grants++;
        expect(value.gp, 'a grant keeps its private part under its own key').toMatch(/^g1\./);
      } else if (record.key.startsWith('at:') || record.key.startsWith('rt:')) {
        // A token record: its kind, expiry, grant id, wrapped grant key (and its own sealed part).
        expect(value.g, 'a token record links to its grant').toEqual(expect.any(String));
        expect(value.wk).toMatch(/^t1\./);
        expect(
          Object.keys(value).filter((k) => !['v', 'kind', 'exp', 'g', 'wk', 'sealed', 'body'].includes(k)),
        ).toEqual([]);
      }
    }
    let codes = 0;
    for await (const entry of store.entries(`${config.prefix}x:code:`)) {
      codes++;
      // A code's record links to its grant as a token's does: the grant's key wrapped under the
      // code, and its own request (redirect URI, PKCE challenge) sealed per level.
      const value = entry.value as Record<string, unknown>;
      expect(value).toMatchObject({
        kind: 'code',
        g: expect.any(String),
        wk: expect.stringMatching(/^t1\./),
      });
      expect(
        Object.keys(value).filter((k) => !['v', 'kind', 'exp', 'g', 'wk', 'sealed', 'body'].includes(k)),
      ).toEqual([]);
      opened.push(JSON.stringify(value));
    }
    expect(codes).toBe(1);
  } finally {
    await cache.close();
  }
  expect(records).toBeGreaterThan(3);
  // Two logins (one left as a code) and a refresh: the first grant, its record kept across the
  // rotation, and the unredeemed code's.
  expect(grants).toBe(2);
  return opened.join('\n');
}

describe.each([
  ['sqlite', 'enhanced'],
  ['sqlite', 'maximum'],
  ['redis', 'maximum'],
] as const)('a leaked %s store at %s, with every server secret', (kind, level) => {
  let harness: Harness;
  let redis: RedisServerHandle | undefined;
  let dump: Dump;

  afterAll(async () => {
    await harness?.close();
    await redis?.stop();
  });

  it('reveals no 1C password (nor, at maximum, the login) while every token works through the server', async () => {
    const env: Record<string, string> = { SECURITY_LEVEL: level };
    if (kind === 'redis') {
      redis = await startRedisServer();
      env.OAUTH_CACHE_STORE = redis.url;
    }
    harness = await startHarness({ env, users: [USER] });
    const publicUrl = harness.server.publicUrl;

    // A user's day: log in, call 1C, refresh, call again; a second login left as an unused code.
    const first = await obtainTokens(publicUrl, USER.login, USER.password);
    expect(await mcpUser(publicUrl, first.access_token)).toContain(USER.fullName);
    const refreshed = await fetch(`${publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: first.client_id,
        refresh_token: first.refresh_token,
      }),
    });
    expect(refreshed.status).toBe(200);
    const second = (await refreshed.json()) as { access_token: string };
    expect(await mcpUser(publicUrl, second.access_token)).toContain(USER.fullName);
    await pendingCode(publicUrl);

    if (kind === 'sqlite') {
      const file = harness.env.OAUTH_CACHE_STORE!.replace(/^sqlite:\/\//, '');
      dump = async () =>
        readdirSync(harness.dir)
          .filter((name) => name.startsWith(file.slice(harness.dir.length + 1)))
          .map((name) => readFileSync(join(harness.dir, name)).toString('utf8'))
          .join('\n');
    } else {
      dump = async () => {
        const client = createClient({ url: redis!.url });
        await client.connect();
        const parts: string[] = [];
        try {
          for await (const keys of client.scanIterator({ COUNT: 500 })) {
            for (const key of keys) {
              const type = await client.type(key);
              parts.push(key);
              if (type === 'string') parts.push((await client.get(key)) ?? '');
              else if (type === 'zset') parts.push(...(await client.zRange(key, 0, -1)));
              else if (type === 'hash') parts.push(JSON.stringify(await client.hGetAll(key)));
              else if (type === 'set') parts.push(...(await client.sMembers(key)));
              else if (type === 'list') parts.push(...(await client.lRange(key, 0, -1)));
            }
          }
        } finally {
          await client.quit();
        }
        return parts.join('\n');
      };
    }

    const raw = await dump();
    expect(raw.length).toBeGreaterThan(1000);
    const opened = await openedWithServerKeys(harness.env);
    for (const text of [raw, opened]) {
      expect(text).not.toContain(USER.password);
      expect(text).not.toContain(first.access_token);
      expect(text).not.toContain(second.access_token);
      if (level === 'maximum') expect(text).not.toContain(USER.login);
    }
    // What the server's keys do open is real: the records' metadata (the audience), so the check
    // above is not vacuous.
    expect(opened).toContain(`${publicUrl}/mcp`);
    if (level === 'enhanced') expect(opened).toContain(USER.login);

    // And nothing of that stopped the server: the latest token still reaches 1C as its user.
    expect(await mcpUser(publicUrl, second.access_token)).toContain(USER.fullName);
  });
});
