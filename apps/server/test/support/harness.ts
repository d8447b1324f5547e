/**
 * Test harness: the real 1C emulator, the real server on 127.0.0.1 (port 0 unless told), a real
 * SQLite file in a temp folder. No mocks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientMetadataFetchOptions } from '@oauth-cache/authorization-server';
import { type Emulator, type EmulatorUser, startEmulator } from '@oauth-cache/onec-emulator';
import type { Logger } from 'pino';
import { loadServerConfig, type RunningServer, startServer } from '../../src/index.js';

export interface Harness {
  emulator: Emulator;
  server: RunningServer;
  dir: string;
  /** The env the server was started with (to restart it on the same store). */
  env: Record<string, string>;
  /** Stop the server (if running), the emulator, and delete the temp folder. */
  close(): Promise<void>;
  /** Restart the server on the same store and port. */
  restart(): Promise<RunningServer>;
}

/** Fixed keys, as an operator would configure them (so restarts can read old records). */
export function fixedSecrets(): Record<string, string> {
  return {
    OAUTH_CACHE_SECRET: randomBytes(32).toString('base64'),
    OAUTH_CACHE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  };
}

export async function startHarness(
  options: {
    env?: Record<string, string>;
    users?: EmulatorUser[];
    logger?: Logger;
    /** Test-only options of the client ID metadata document fetch (see `StartServerOptions`). */
    clientMetadataFetch?: ClientMetadataFetchOptions;
  } = {},
): Promise<Harness> {
  const serverOptions = {
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.clientMetadataFetch ? { clientMetadataFetch: options.clientMetadataFetch } : {}),
  };
  const emulator = await startEmulator({ port: 0, ...(options.users ? { users: options.users } : {}) });
  const dir = mkdtempSync(join(tmpdir(), 'oc-server-'));
  const env: Record<string, string> = {
    ENVIRONMENT: 'test',
    MCP_ONEC_URL: emulator.url,
    MCP_HOST: '127.0.0.1',
    MCP_PORT: '0',
    MCP_LOG_LEVEL: 'silent',
    MCP_SHUTDOWN_GRACE_MS: '2000',
    OAUTH_CACHE_STORE: `sqlite://${join(dir, 'oauth-cache.sqlite')}`,
    OAUTH_CACHE_DATA_DIR: dir,
    AUTO_CLEANUP_INTERVAL: '0',
    ...fixedSecrets(),
    ...options.env,
  };
  let server = await startServer(loadServerConfig(env).config, serverOptions);
  let running = true;
  const harness: Harness = {
    emulator,
    get server() {
      return server;
    },
    dir,
    env,
    async restart() {
      if (running) await server.close();
      running = false;
      const port = new URL(server.url).port;
      server = await startServer(loadServerConfig({ ...env, MCP_PORT: port }).config, serverOptions);
      running = true;
      return server;
    },
    async close() {
      if (running) await server.close();
      running = false;
      // The test may have swapped the emulator (to simulate 1C going down and back).
      await harness.emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** The hidden and visible inputs of the first form in `html` (values HTML-unescaped). */
export function formFields(html: string): URLSearchParams {
  const fields = new URLSearchParams();
  for (const match of html.matchAll(/<input\b([^>]*)>/g)) {
    const attrs = match[1] ?? '';
    const name = /\bname="([^"]*)"/.exec(attrs)?.[1];
    const value = /\bvalue="([^"]*)"/.exec(attrs)?.[1] ?? '';
    if (name && /type="hidden"/.test(attrs)) fields.append(name, unescapeHtml(value));
  }
  return fields;
}

function unescapeHtml(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * Do what a user does in a browser: open the authorization URL, fill in the form, submit it.
 * Resolves the final response of the POST (not followed).
 */
export async function submitLogin(
  authorizationUrl: URL | string,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  if (page.status !== 200) throw new Error(`authorize page answered ${page.status}: ${await page.text()}`);
  const fields = formFields(await page.text());
  fields.set('username', username);
  fields.set('password', password);
  fields.set('action', 'login');
  return fetch(new URL('/authorize', authorizationUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: fields,
    redirect: 'manual',
  });
}

/** Like {@link submitLogin} but expects the redirect back to the client and resolves its URL. */
export async function loginForRedirect(
  authorizationUrl: URL | string,
  username: string,
  password: string,
): Promise<URL> {
  const response = await submitLogin(authorizationUrl, username, password);
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) {
    throw new Error(`login answered ${response.status}: ${(await response.text()).slice(0, 400)}`);
  }
  return new URL(location);
}

/** Register a client, log in through the form and exchange the code: resolves the token response. */
export async function obtainTokens(
  publicUrl: string,
  username: string,
  password: string,
): Promise<{ access_token: string; refresh_token: string; client_id: string }> {
  const redirect = 'http://127.0.0.1:41000/cb';
  const reg = await fetch(`${publicUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirect] }),
  });
  if (reg.status !== 201)
    throw new Error(`register answered ${reg.status}: ${(await reg.text()).slice(0, 400)}`);
  const { client_id } = (await reg.json()) as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const url = `${publicUrl}/authorize?${new URLSearchParams({
    client_id,
    redirect_uri: redirect,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })}`;
  const callback = await loginForRedirect(url, username, password);
  const token = await fetch(`${publicUrl}/token`, {
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
  if (token.status !== 200) throw new Error(`token answered ${token.status}: ${await token.text()}`);
  return { ...((await token.json()) as { access_token: string; refresh_token: string }), client_id };
}

/**
 * The signed `form_token` the login page renders for the authorization request `params` (for tests
 * that post the login form directly).
 */
export async function loginFormToken(base: string, params: URLSearchParams): Promise<string> {
  const page = await fetch(`${base}/authorize?${params}`, { redirect: 'manual' });
  const token = formFields(await page.text()).get('form_token');
  if (page.status !== 200 || !token) throw new Error(`authorize page answered ${page.status} without a form`);
  return token;
}
