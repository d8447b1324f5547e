/**
 * The login page in a real headless Chromium: rendered without JavaScript, filled in and submitted
 * by clicking; the browser lands on the client's registered redirect URI with a code.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { s256Challenge } from '@oauth-cache/authorization-server';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { type Harness, startHarness } from './support/harness.js';

let h: Harness;
let browser: Browser;
let callbackServer: Server;
let callbackUrl: string;
const received: URL[] = [];

beforeAll(async () => {
  h = await startHarness();
  callbackServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', callbackUrl);
    // Chromium also asks the callback origin for /favicon.ico.
    if (url.pathname === '/callback') received.push(url);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>client callback</h1>');
  });
  await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
  callbackUrl = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  callbackServer?.close();
  await h?.close();
});

describe('login page in Chromium', () => {
  it('renders the form, shows an error for a wrong password, and redirects after a correct one', async () => {
    const registration = await fetch(`${h.server.publicUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [callbackUrl], client_name: '<b>Evil & "Co"</b>' }),
    });
    const { client_id } = (await registration.json()) as { client_id: string };
    const verifier = 'v'.repeat(50);
    const authorize = new URL(`${h.server.publicUrl}/authorize`);
    authorize.search = new URLSearchParams({
      client_id,
      redirect_uri: callbackUrl,
      response_type: 'code',
      code_challenge: s256Challenge(verifier),
      code_challenge_method: 'S256',
      state: 'state-"<x>',
    }).toString();

    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const response = await page.goto(authorize.href);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Sign in with your 1C account');
    // The client name is shown as text, never as markup.
    expect(await page.locator('main p strong').first().textContent()).toBe('<b>Evil & "Co"</b>');
    expect(await page.locator('main b').count()).toBe(0);

    await page.fill('#username', 'ivanov');
    await page.fill('#password', 'wrong');
    await Promise.all([
      page.waitForURL(`${h.server.publicUrl}/authorize`),
      page.click('button[value="login"]'),
    ]);
    expect(await page.locator('.error').textContent()).toContain('Wrong 1C login or password');
    expect(await page.inputValue('#username')).toBe('ivanov');

    await page.fill('#password', 'Пароль123');
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(callbackUrl)),
      page.click('button[value="login"]'),
    ]);
    const landed = received.at(-1)!;
    expect(landed.pathname).toBe('/callback');
    expect(landed.searchParams.get('state')).toBe('state-"<x>');
    expect(landed.searchParams.get('iss')).toBe(h.server.publicUrl);
    const code = landed.searchParams.get('code')!;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const token = await fetch(`${h.server.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id,
        code,
        code_verifier: verifier,
        redirect_uri: callbackUrl,
      }),
    });
    expect(token.status).toBe(200);
    await context.close();
  });
});
