/**
 * The phishing scenario of the security review, end to end in a real headless Chromium: anyone can
 * register a client named "Claude Desktop" whose redirect URI is their own site. The login page
 * must headline the attacker's host, mark the name as self-declared and warn; with
 * MCP_REDIRECT_POLICY=enforce the flow stops before any login form. No request ever goes to
 * evil.example: the tests stop at the login page.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { s256Challenge } from '@oauth-cache/authorization-server';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { type Harness, startHarness } from './support/harness.js';

const ATTACKER_REDIRECT = 'https://evil.example/cb';
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-artifacts');

let warn: Harness;
let enforce: Harness;
let browser: Browser;

beforeAll(async () => {
  warn = await startHarness({ env: { MCP_ALLOWED_REDIRECT_HOSTS: 'claude.ai' } });
  enforce = await startHarness({
    env: { MCP_REDIRECT_POLICY: 'enforce', MCP_ALLOWED_REDIRECT_HOSTS: 'claude.ai' },
  });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await warn?.close();
  await enforce?.close();
});

async function register(h: Harness, redirect: string, name: string): Promise<string> {
  const response = await fetch(`${h.server.publicUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirect], client_name: name }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { client_id: string }).client_id;
}

function authorizeUrl(h: Harness, clientId: string, redirect: string): string {
  return `${h.server.publicUrl}/authorize?${new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirect,
    response_type: 'code',
    code_challenge: s256Challenge('p'.repeat(43)),
    code_challenge_method: 'S256',
    state: 'attacker-state',
  })}`;
}

describe('phishing through the genuine login page', () => {
  it('headlines the attacker host, marks the name self-declared, warns, and is screenshotted', async () => {
    const clientId = await register(warn, ATTACKER_REDIRECT, 'Claude Desktop');
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const response = await page.goto(authorizeUrl(warn, clientId, ATTACKER_REDIRECT));
    expect(response?.status()).toBe(200);

    const headline = page.locator('h1');
    expect(await headline.textContent()).toBe('https://evil.example');
    expect(await headline.locator('strong').textContent()).toBe('evil.example');
    // Prominent: the headline's bold domain is larger than the body text and the client name.
    // (The tests compile without the DOM library: reach getComputedStyle through globalThis.)
    const fontSize = (selector: string) =>
      page
        .locator(selector)
        .first()
        .evaluate((el) => {
          const view = globalThis as unknown as {
            getComputedStyle(element: unknown): { fontSize: string };
          };
          return Number.parseFloat(view.getComputedStyle(el).fontSize);
        });
    const sizes = { domain: await fontSize('h1 strong'), name: await fontSize('main p strong') };
    expect(sizes.domain).toBeGreaterThan(sizes.name);

    expect(await page.locator('main p strong').first().textContent()).toBe('Claude Desktop');
    expect(await page.locator('#self-declared').textContent()).toBe('self-declared name');
    const warning = await page.locator('#warning-unlisted').textContent();
    expect(warning).toContain('has not listed evil.example');
    expect(warning).toContain('evil.example can use 1C as you');
    // The form is there (warn mode), carrying its signed token.
    expect(await page.locator('input[type=password]').count()).toBe(1);
    expect(await page.locator('input[name=form_token]').getAttribute('value')).toMatch(
      /^\d+\.[A-Za-z0-9_-]{43}$/,
    );

    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'phishing-login.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(0);
    await context.close();
  });

  it('a listed host is vouched for; a loopback redirect warns that the app runs on this computer', async () => {
    const listed = await register(warn, 'https://claude.ai/api/mcp/auth_callback', 'Claude');
    const listedPage = await (
      await fetch(authorizeUrl(warn, listed, 'https://claude.ai/api/mcp/auth_callback'))
    ).text();
    expect(listedPage).toContain('listed by this server');
    expect(listedPage).not.toContain('self-declared');
    expect(listedPage).not.toContain('class="warning"');

    const local = await register(warn, 'http://127.0.0.1:43123/cb', 'Local tool');
    const localPage = await (await fetch(authorizeUrl(warn, local, 'http://127.0.0.1:43123/cb'))).text();
    expect(localPage).toContain('id="warning-loopback"');
    expect(localPage).toContain('This app runs on your own computer');
    expect(localPage).toContain('self-declared name');
  });

  it('MCP_REDIRECT_POLICY=enforce refuses the same flow before any login form', async () => {
    const clientId = await register(enforce, ATTACKER_REDIRECT, 'Claude Desktop');
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const response = await page.goto(authorizeUrl(enforce, clientId, ATTACKER_REDIRECT));
    expect(response?.status()).toBe(400);
    expect(page.url().startsWith(enforce.server.publicUrl)).toBe(true);
    const html = await page.content();
    expect(html).not.toContain('<form');
    expect(await page.locator('input[type=password]').count()).toBe(0);
    expect(await page.locator('h1').textContent()).toBe('This application is not allowed here');
    await context.close();

    // Over plain HTTP too: a 400 page, no redirect, and a POST is refused the same way.
    const raw = await fetch(authorizeUrl(enforce, clientId, ATTACKER_REDIRECT), { redirect: 'manual' });
    expect(raw.status).toBe(400);
    expect(raw.headers.get('location')).toBeNull();
    const posted = await fetch(`${enforce.server.publicUrl}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URL(authorizeUrl(enforce, clientId, ATTACKER_REDIRECT)).searchParams,
      redirect: 'manual',
    });
    expect(posted.status).toBe(400);
    expect(posted.headers.get('location')).toBeNull();

    // A listed host still gets its form.
    const listed = await register(enforce, 'https://claude.ai/api/cb', 'Claude');
    const ok = await fetch(authorizeUrl(enforce, listed, 'https://claude.ai/api/cb'));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('type="password"');
  });

  it('refuses bidi names and non-canonical redirect URIs at registration', async () => {
    const post = (body: unknown) =>
      fetch(`${warn.server.publicUrl}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const bidi = await post({
      redirect_uris: ['https://app.example/cb'],
      client_name: 'Claude \u202eDesktop',
    });
    expect(bidi.status).toBe(400);
    expect(((await bidi.json()) as { error: string }).error).toBe('invalid_client_metadata');
    for (const uri of ['http://0x7f000001/cb', 'https:evil.example/cb']) {
      const response = await post({ redirect_uris: [uri] });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: string; error_description: string };
      expect(body.error).toBe('invalid_redirect_uri');
      expect(body.error_description).toContain('canonical form');
    }
  });
});
