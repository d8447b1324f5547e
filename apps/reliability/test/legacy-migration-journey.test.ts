/**
 * Issue 16: moving from the old Python 1C MCP server logs nobody out. Real processes only: a Python
 * process builds the old server's in-memory store (naive Moscow times, one public client id, refresh
 * rotation that leaves old access tokens alive) and dumps it with the function the CLI README tells
 * operators to paste (extracted from the README at test time); the CLI migrates the dump into a
 * SQLite file with the server's environment; the real server then serves that file in front of the
 * 1C emulator, and real clients (the MCP SDK, plain OAuth requests) use the old tokens.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '@oauth-cache/keyv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_USERS,
  type EmulatorProcess,
  type EmulatorUser,
  startEmulatorProcess,
} from '../src/emulator-process.js';
import { header, httpRequest, jsonOf, postForm } from '../src/http.js';
import {
  type FinishedProcess,
  type LegacySidecar,
  type LegacyToken,
  type MigrateSummary,
  readmeDumpSnippet,
  runCli,
  runLegacyServerFixture,
} from '../src/legacy-migration.js';
import { mcpToolsList, pkcePair } from '../src/oauth-flow.js';
import { newSecrets, type ServerProcess, startServerProcess } from '../src/server-process.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/legacy_server.py', import.meta.url));
const LEGACY_TZ = 'Europe/Moscow';
const LEGACY_CLIENT_ID = 'mcp-public-client';

/** A third 1C user (besides the emulator's demo users), with a password Basic auth must carry intact. */
const EXTRA_USER: EmulatorUser = { login: 'petrova', password: 'Секрет: 42 "x"' };
/** The users the old server had logged in: all accepted by the emulator. */
const LEGACY_USERS = [
  DEMO_USERS.find((u) => u.login === 'demo') as EmulatorUser,
  DEMO_USERS.find((u) => u.login === 'ivanov') as EmulatorUser,
  EXTRA_USER,
];

let dir: string;
let publicUrl: string;
let emulator: EmulatorProcess | undefined;
let server: ServerProcess | undefined;
let sidecar: LegacySidecar;
let dumpPath: string;
let migration: FinishedProcess & { summary: MigrateSummary | undefined };

/** What `tools/call get_current_user` through the gateway said, or how it failed. */
async function whoAmIThroughSdk(base: string, token: string): Promise<string> {
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'legacy-migration-journey', version: '0.1.0' });
  try {
    await client.connect(transport);
    const result = await client.callTool({ name: 'get_current_user', arguments: {} });
    const content = result.content as Array<{ type: string; text?: string }>;
    const text = content.find((item) => item.type === 'text')?.text ?? '';
    if (result.isError) return `tool error: ${text}`;
    return (JSON.parse(text) as { login: string }).login;
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** `POST /mcp tools/list` with `token`: status plus the start of a refusal (its reason). */
async function mcpStatus(base: string, token: string): Promise<string> {
  const response = await mcpToolsList(base, token, { timeoutMs: 20_000 });
  if (response.status === 200) return '200';
  return `${response.status} ${header(response, 'www-authenticate') ?? ''} ${response.body.slice(0, 200)}`;
}

/** `grant_type=refresh_token` as the old server's clients send it (public client, no secret). */
function refresh(refreshToken: string, resource?: string) {
  return postForm(
    `${publicUrl}/token`,
    new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: LEGACY_CLIENT_ID,
      refresh_token: refreshToken,
      ...(resource ? { resource } : {}),
    }),
    { timeoutMs: 20_000 },
  );
}

function byLogin(tokens: readonly LegacyToken[], login: string): LegacyToken[] {
  return tokens.filter((t) => t.login === login);
}

describe('migration from the old Python server, through the real server', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oc-rel-legacy-'));
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    const secrets = newSecrets();
    const storeUrl = `sqlite://${join(dir, 'store.sqlite')}`;

    // 1. The old server's store, dumped by the README's function.
    const snippetPath = join(dir, 'readme_dump_snippet.py');
    writeFileSync(snippetPath, readmeDumpSnippet());
    dumpPath = join(dir, 'oauth-dump.json');
    sidecar = await runLegacyServerFixture({
      fixture: FIXTURE,
      scenarioPath: join(dir, 'scenario.json'),
      snippetPath,
      dumpPath,
      sidecarPath: join(dir, 'sidecar.json'),
      users: LEGACY_USERS,
      tz: LEGACY_TZ,
    });

    // 2. The operator's migration, with the environment the server will run with (ENVIRONMENT
    // unset: development). MCP_PUBLIC_URL names the port the server is about to listen on.
    const deployment: Record<string, string> = {
      ...secrets,
      MCP_PUBLIC_URL: publicUrl,
      OAUTH_CACHE_STORE: storeUrl,
      OAUTH_CACHE_DATA_DIR: join(dir, 'data'),
    };
    migration = await runCli(
      ['migrate', '--from', `legacy-json:${dumpPath}`, '--to', storeUrl, '--legacy-tz', LEGACY_TZ, '--json'],
      deployment,
    );

    // 3. The real server on that file, in front of the 1C emulator.
    emulator = await startEmulatorProcess([EXTRA_USER]);
    server = await startServerProcess(
      { ...deployment, MCP_HOST: '127.0.0.1', MCP_ONEC_URL: emulator.url, MCP_LOG_LEVEL: 'warn' },
      { port, readyTimeoutMs: 60_000 },
    );
  }, 240_000);

  afterAll(async () => {
    await server?.kill();
    await emulator?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('the README function dumped the old store: every token, naive local times, mode 0600', () => {
    expect(sidecar.utcOffsetSeconds).toBe(3 * 3600);
    expect(statSync(dumpPath).mode & 0o777).toBe(0o600);
    const dump = JSON.parse(readFileSync(dumpPath, 'utf8')) as {
      access_tokens: Record<string, { login: string; password: string; exp: string }>;
      refresh_tokens: Record<string, { login: string; exp: string; rotation_counter: number }>;
    };
    expect(Object.keys(dump.access_tokens).sort()).toEqual(
      [...sidecar.liveAccess, ...sidecar.expiredAccess].map((t) => t.token).sort(),
    );
    expect(Object.keys(dump.refresh_tokens).sort()).toEqual(
      [...sidecar.liveRefresh, ...sidecar.expiredRefresh].map((t) => t.token).sort(),
    );
    // Naive: no offset, as `datetime.now()` writes it.
    for (const record of [...Object.values(dump.access_tokens), ...Object.values(dump.refresh_tokens)]) {
      expect(record.exp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/);
    }
    // More access than refresh tokens (refreshes left the old access tokens alive), some rotated away.
    expect(sidecar.liveAccess.length).toBeGreaterThan(sidecar.liveRefresh.length);
    expect(sidecar.rotatedRefresh.length).toBeGreaterThan(0);
    expect(Math.max(...Object.values(dump.refresh_tokens).map((r) => r.rotation_counter))).toBe(2);
    for (const user of LEGACY_USERS) {
      expect(byLogin(sidecar.liveAccess, user.login).length).toBeGreaterThanOrEqual(2);
    }
  });

  it('migrate exits 0 and counts every live token, skipping the expired ones (Moscow time)', () => {
    expect(migration.status, migration.output).toEqual({ code: 0, signal: null });
    expect(migration.summary, migration.stdout).toMatchObject({
      ok: true,
      migratedAccess: sidecar.liveAccess.length,
      migratedRefresh: sidecar.liveRefresh.length,
      // One access token expired an hour ago in Moscow: read as UTC it would look alive for 2 hours.
      skippedExpired: sidecar.expiredAccess.length + sidecar.expiredRefresh.length,
      alreadyPresent: 0,
      skippedRevoked: 0,
      errors: 0,
      fatal: null,
    });
    // The dump holds the 1C passwords in the clear; the CLI's output must not.
    for (const user of LEGACY_USERS) expect(migration.output).not.toContain(user.password);
  });

  it('every migrated access token answers 200 on /mcp and reaches 1C as its own user', async () => {
    const base = (server as ServerProcess).url;
    const calls = `${(emulator as EmulatorProcess).url}/__emulator/calls`;
    await httpRequest(calls, { method: 'DELETE' });

    const statuses: string[] = [];
    const users: string[] = [];
    for (const { token } of sidecar.liveAccess) {
      statuses.push(await mcpStatus(base, token));
      users.push(await whoAmIThroughSdk(base, token));
    }
    expect(statuses).toEqual(sidecar.liveAccess.map(() => '200'));
    expect(users).toEqual(sidecar.liveAccess.map((t) => t.login));

    // The emulator saw each call under the token's own Basic login, accepted.
    const logged = (jsonOf(await httpRequest(calls)) as { calls: Array<Record<string, unknown>> }).calls;
    for (const user of LEGACY_USERS) {
      const asUser = logged.filter(
        (c) => c.rpcMethod === 'tools/call' && c.target === 'get_current_user' && c.user === user.login,
      );
      expect(asUser.length).toBe(byLogin(sidecar.liveAccess, user.login).length);
      expect(asUser.every((c) => c.authorized === true && c.status === 200)).toBe(true);
    }
  });

  it('expired access tokens were left behind: 401 on /mcp', async () => {
    const base = (server as ServerProcess).url;
    for (const { token } of sidecar.expiredAccess) {
      expect((await mcpToolsList(base, token, { timeoutMs: 20_000 })).status).toBe(401);
    }
  });

  it('a migrated refresh token rotates at /token (with resource) and the new access token works', async () => {
    const [migrated] = byLogin(sidecar.liveRefresh, LEGACY_USERS[0]?.login as string);
    const response = await refresh((migrated as LegacyToken).token, `${publicUrl}/mcp`);
    expect(response.status, response.body).toBe(200);
    const tokens = jsonOf(response) as { access_token: string; refresh_token: string; token_type: string };
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).not.toBe((migrated as LegacyToken).token);
    expect(await mcpStatus((server as ServerProcess).url, tokens.access_token)).toBe('200');
    expect(await whoAmIThroughSdk((server as ServerProcess).url, tokens.access_token)).toBe(
      (migrated as LegacyToken).login,
    );
    // As on the old server, refreshing leaves the user's other tokens alone: every migrated access
    // token of this user still works.
    for (const { token } of byLogin(sidecar.liveAccess, (migrated as LegacyToken).login)) {
      expect(await mcpStatus((server as ServerProcess).url, token)).toBe('200');
    }
    // The new refresh token is a normal one of this server: it rotates again.
    const again = await refresh(tokens.refresh_token, `${publicUrl}/mcp`);
    expect(again.status, again.body).toBe(200);
  });

  it('a migrated refresh token rotates without resource too (the token whose access token expired)', async () => {
    // The second user's login from 2 hours ago: access token expired (not migrated), refresh alive.
    const withoutAccess = sidecar.liveRefresh.filter((t) => t.login === LEGACY_USERS[1]?.login).at(-1);
    const response = await refresh((withoutAccess as LegacyToken).token);
    expect(response.status, response.body).toBe(200);
    const tokens = jsonOf(response) as { access_token: string; refresh_token: string };
    expect(typeof tokens.refresh_token).toBe('string');
    expect(await whoAmIThroughSdk((server as ServerProcess).url, tokens.access_token)).toBe(
      (withoutAccess as LegacyToken).login,
    );
  });

  it('a refresh token the old server had rotated away is refused: 400 invalid_grant', async () => {
    for (const { token } of sidecar.rotatedRefresh) {
      const response = await refresh(token, `${publicUrl}/mcp`);
      expect(response.status, response.body).toBe(400);
      expect((jsonOf(response) as { error?: string }).error).toBe('invalid_grant');
    }
  });

  it('/authorize for the old public client id shows no login form and redirects nowhere', async () => {
    const query = new URLSearchParams({
      client_id: LEGACY_CLIENT_ID,
      response_type: 'code',
      redirect_uri: 'http://localhost:9/cb',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      state: 'x',
    });
    const response = await httpRequest(`${publicUrl}/authorize?${query}`, { timeoutMs: 20_000 });
    expect(response.status, response.body.slice(0, 300)).toBe(400);
    expect(header(response, 'location')).toBeUndefined();
    expect(response.body).not.toMatch(/<form/i);
    // No password field (the page shares the login page's stylesheet, which names one: look at inputs).
    expect(response.body).not.toMatch(/<input[^>]*password/i);
    expect(response.body).toContain('invalid_client');
  });
});
