/**
 * The login POST is bound to a page this server rendered: a signed, expiring form token, and no
 * cross-site posts (Sec-Fetch-Site / Origin). Includes a real cross-site form post from another
 * site's page in headless Chromium.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { s256Challenge } from '@oauth-cache/authorization-server';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { formFields, type Harness, startHarness } from './support/harness.js';

const REDIRECT = 'http://127.0.0.1:40100/cb';
let h: Harness;
let shortLived: Harness;
let browser: Browser;
let attackerSite: Server;
let attackerPage = '';

beforeAll(async () => {
  h = await startHarness();
  shortLived = await startHarness({ env: { MCP_LOGIN_FORM_TTL_SECONDS: '1' } });
  attackerSite = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end(attackerPage);
  });
  await new Promise<void>((resolve) => attackerSite.listen(0, '127.0.0.1', resolve));
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  attackerSite?.close();
  await h?.close();
  await shortLived?.close();
});

async function authorizeQuery(server: Harness): Promise<URLSearchParams> {
  const reg = await fetch(`${server.server.publicUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT] }),
  });
  const { client_id } = (await reg.json()) as { client_id: string };
  return new URLSearchParams({
    client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: s256Challenge('q'.repeat(43)),
    code_challenge_method: 'S256',
    state: 'st',
  });
}

/** The login form as the page renders it, filled with the demo user's correct credentials. */
async function filledForm(server: Harness, query: URLSearchParams): Promise<URLSearchParams> {
  const page = await fetch(`${server.server.publicUrl}/authorize?${query}`);
  expect(page.status).toBe(200);
  const fields = formFields(await page.text());
  fields.set('username', 'demo');
  fields.set('password', 'demo');
  fields.set('action', 'login');
  return fields;
}

function post(server: Harness, form: URLSearchParams, headers: Record<string, string> = {}) {
  return fetch(`${server.server.publicUrl}/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form,
    redirect: 'manual',
  });
}

function healthCalls(server: Harness): number {
  return server.emulator.calls.filter((c) => c.endpoint === 'health').length;
}

describe('login form token', () => {
  it('a correct form with its token signs in; same-origin browser headers are accepted', async () => {
    const query = await authorizeQuery(h);
    const response = await post(h, await filledForm(h, query), {
      'sec-fetch-site': 'same-origin',
      origin: h.server.publicUrl,
    });
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('refuses a missing, tampered, repeated or foreign-request token before asking 1C', async () => {
    const query = await authorizeQuery(h);
    const good = await filledForm(h, query);
    const token = good.get('form_token')!;
    const before = healthCalls(h);

    const missing = new URLSearchParams(good);
    missing.delete('form_token');
    const tampered = new URLSearchParams(good);
    tampered.set('form_token', `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`);
    const longer = new URLSearchParams(good);
    const [expiry, mac] = token.split('.');
    longer.set('form_token', `${Number(expiry) + 3_600_000}.${mac}`);
    const twice = new URLSearchParams(good);
    twice.append('form_token', token);
    // The token of this page does not carry over to another request (here: another state).
    const otherState = new URLSearchParams(good);
    otherState.set('state', 'other');

    for (const form of [missing, tampered, longer, twice, otherState]) {
      const response = await post(h, form);
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      const html = await response.text();
      expect(html).toContain('The sign-in form was not valid');
      // A fresh form is offered to try again.
      expect(formFields(html).get('form_token')).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    }
    expect(healthCalls(h)).toBe(before);
  });

  it('refuses a form replayed after it expired', async () => {
    const query = await authorizeQuery(shortLived);
    const form = await filledForm(shortLived, query);
    await new Promise((resolve) => setTimeout(resolve, 2200));
    const before = healthCalls(shortLived);
    const response = await post(shortLived, form);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('The sign-in form expired');
    expect(healthCalls(shortLived)).toBe(before);
  });
});

describe('cross-site login posts', () => {
  it('refuses Sec-Fetch-Site cross-site / same-site and a foreign or null Origin with 403', async () => {
    const query = await authorizeQuery(h);
    const form = await filledForm(h, query);
    const before = healthCalls(h);
    const crossSite: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:1' },
    ];
    for (const headers of crossSite) {
      const response = await post(h, form, headers);
      expect(response.status).toBe(403);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain('sent from another website');
    }
    expect(healthCalls(h)).toBe(before);
  });

  it('a real form on another site posting to /authorize in Chromium is refused', async () => {
    const query = await authorizeQuery(h);
    // The attacker fetched a genuine form (token included) and re-hosts it on their own site.
    const fields = await filledForm(h, query);
    const inputs = [...fields]
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${v.replace(/"/g, '&quot;')}">`)
      .join('');
    attackerPage = `<!doctype html><form method="post" action="${h.server.publicUrl}/authorize">${inputs}<button id="go">Continue</button></form>`;
    const attackerUrl = `http://localhost:${(attackerSite.address() as AddressInfo).port}/`;
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(attackerUrl);
    const before = healthCalls(h);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${h.server.publicUrl}/authorize`),
      page.click('#go'),
    ]);
    expect(response.status()).toBe(403);
    expect(await response.text()).toContain('sent from another website');
    expect(healthCalls(h)).toBe(before);
    await context.close();
  });
});
