/**
 * The operator console in a real headless Chromium, on two gateway instances sharing one real
 * redis-server (with the in-process L1 tier) in front of the 1C emulator. A user signs in twice
 * through the real OAuth flow (registration, login form, PKCE code exchange) with two clients; the
 * operator signs in to instance A's console, finds the user, revokes one grant by clicking through
 * the confirmation page; instance B refuses that client's next /mcp call within 100 ms and still
 * serves the other grant. Screenshots go to test-results/console/ (with UPDATE_SCREENSHOTS=1 the user
 * page also replaces docs/console.png, the README's).
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type RedisServerHandle, startRedisServer } from '@oauth-cache/keyv/testing';
import { type Emulator, startEmulator } from '@oauth-cache/onec-emulator';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig, type RunningServer, startServer } from '../src/index.js';
import { launchChromium } from './support/chromium.js';
import { fixedSecrets, loginForRedirect } from './support/harness.js';
import { rawRequest } from './support/http.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = join(HERE, '..', 'test-results', 'console');
const DOC_SCREENSHOT = join(HERE, '..', 'docs', 'console.png');
const STATUS_TOKEN = 'browser-console-status-token-0123456789';

let redis: RedisServerHandle;
let emulator: Emulator;
let a: RunningServer;
let b: RunningServer;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  redis = await startRedisServer();
  emulator = await startEmulator({ port: 0 });
  const portA = await freePort();
  const shared = {
    ENVIRONMENT: 'test',
    MCP_ONEC_URL: emulator.url,
    MCP_HOST: '127.0.0.1',
    MCP_LOG_LEVEL: 'silent',
    MCP_SHUTDOWN_GRACE_MS: '1000',
    MCP_PUBLIC_URL: `http://127.0.0.1:${portA}`,
    OAUTH_CACHE_STORE: redis.url,
    OAUTH_CACHE_L1_MAX: '1000',
    OAUTH_CACHE_STATUS_TOKEN: STATUS_TOKEN,
    AUTO_CLEANUP_INTERVAL: '0',
    ...fixedSecrets(),
  };
  // A short stats interval so the stats page has points to draw in the screenshot.
  const options = { consoleStatsIntervalMs: 1000 };
  a = await startServer(loadServerConfig({ ...shared, MCP_PORT: String(portA) }).config, options);
  b = await startServer(loadServerConfig({ ...shared, MCP_PORT: '0' }).config, options);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await a?.close().catch(() => undefined);
  await b?.close().catch(() => undefined);
  await emulator?.close();
  await redis?.stop();
});

/** Register a named client on `base`, sign in through the login form, exchange the code with PKCE. */
async function grant(
  base: string,
  clientName: string,
  redirect: string,
  password = 'Пароль123',
): Promise<{ access_token: string }> {
  const registration = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirect], client_name: clientName }),
  });
  expect(registration.status).toBe(201);
  const { client_id } = (await registration.json()) as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const callback = await loginForRedirect(
    `${base}/authorize?${new URLSearchParams({
      client_id,
      redirect_uri: redirect,
      response_type: 'code',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    })}`,
    'ivanov',
    password,
  );
  const token = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id,
      code: callback.searchParams.get('code') ?? '',
      code_verifier: verifier,
      redirect_uri: redirect,
    }),
  });
  expect(token.status).toBe(200);
  return (await token.json()) as { access_token: string };
}

const toolsList = (base: string, token: string) =>
  fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  });

describe('operator console in Chromium, two instances on one Redis', () => {
  it('finds a user, revokes one grant by clicking, and instance B refuses it at once', async () => {
    // Two grants of one user, from two clients, through the real flow (split over both instances).
    const claude = await grant(a.url, 'Claude Desktop', 'http://127.0.0.1:33418/callback');
    const cursor = await grant(b.url, 'Cursor', 'https://cursor.example/oauth/callback');
    // Some noise for the events page: a failed login, a rebinding attempt.
    await grant(a.url, 'Claude Desktop', 'http://127.0.0.1:33418/callback', 'wrong password').catch(
      () => undefined,
    );
    await rawRequest(`${a.url}/mcp`, { method: 'POST', headers: { host: 'evil.example' } });
    // Both tokens validated on B: B's L1 now holds them, so only the invalidation can refuse them.
    expect((await toolsList(b.url, claude.access_token)).status).toBe(200);
    expect((await toolsList(b.url, cursor.access_token)).status).toBe(200);

    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 1280, height: 800 },
    });
    const page = await context.newPage();
    await page.goto(`${a.publicUrl}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await page.fill('#token', STATUS_TOKEN);
    await Promise.all([page.waitForURL(`${a.publicUrl}/console`), page.click('button[type="submit"]')]);
    expect(await page.locator('#total').textContent()).toBe('1');
    await page.screenshot({ path: join(ARTIFACTS, '1-users.png'), fullPage: true });

    await page.fill('#login', 'ivanov');
    await Promise.all([page.waitForURL(/\/console\/users\//), page.click('form.search button')]);
    expect(await page.locator('h1').textContent()).toBe('ivanov');
    const rows = page.locator('#grants tbody tr');
    expect(await rows.count()).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, '2-user.png'), fullPage: true });
    // The README's screenshot is refreshed on request only: a test run leaves the checkout clean.
    if (process.env.UPDATE_SCREENSHOTS === '1') copyFileSync(join(ARTIFACTS, '2-user.png'), DOC_SCREENSHOT);

    const claudeRow = page.locator('#grants tbody tr', { hasText: 'Claude Desktop' });
    expect(await claudeRow.locator('td').nth(1).textContent()).toBe('127.0.0.1:33418');
    await Promise.all([page.waitForURL(/\/revoke\?grant=/), claudeRow.locator('a.button').click()]);
    expect(await page.locator('main p').first().textContent()).toContain('Claude Desktop');
    await page.screenshot({ path: join(ARTIFACTS, '3-confirm.png'), fullPage: true });

    await Promise.all([page.waitForURL(/notice=grant-revoked/), page.click('#confirm')]);
    // The POST has answered: the revocation is committed. B must refuse within 100 ms.
    const revokedAt = performance.now();
    let status = 0;
    let elapsed = 0;
    do {
      status = (await toolsList(b.url, claude.access_token)).status;
      elapsed = performance.now() - revokedAt;
    } while (status !== 401 && elapsed < 100);
    expect(status).toBe(401);
    expect(elapsed).toBeLessThan(100);
    console.log(`console revoke -> 401 on instance B after ${elapsed.toFixed(1)} ms`);
    expect((await toolsList(b.url, cursor.access_token)).status).toBe(200);
    expect((await toolsList(a.url, cursor.access_token)).status).toBe(200);

    expect(await page.locator('.notice').textContent()).toContain('The grant was revoked');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Cursor');
    await page.screenshot({ path: join(ARTIFACTS, '4-revoked.png'), fullPage: true });

    await page.goto(`${a.publicUrl}/console/events`);
    expect(await page.locator('#events').textContent()).toContain('operator_revoked');
    // The revocation names the user it was done to (by the digest the core knows it by: the login
    // is not at hand when revoking) and the operator who did it.
    const revocation = page.locator('#events tr', { hasText: 'operator_revoked' }).first();
    expect(await revocation.textContent()).toMatch(/user #[A-Za-z0-9_-]{10}/);
    expect(await revocation.textContent()).toContain('by console');
    await page.screenshot({ path: join(ARTIFACTS, '5-events.png'), fullPage: true });
    // Let the sampler take a few points (1 s interval here).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await page.goto(`${a.publicUrl}/console/stats`);
    expect(await page.locator('.chart svg').count()).toBe(5);
    await page.screenshot({ path: join(ARTIFACTS, '6-stats.png'), fullPage: true });

    // Sign out: the cookie is gone, the console asks for the token again.
    await Promise.all([page.waitForURL(/\/console\/login/), page.click('nav form button')]);
    await page.goto(`${a.publicUrl}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await context.close();
  });
});
