/**
 * URL client ids end to end through the authorization server's logic, with documents served by a
 * real https server on 127.0.0.1 (`cimd.test` is mapped there by the test-only resolver hook).
 */
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthorizationPageError,
  type AuthorizationServer,
  type ClientMetadataFetchOptions,
  createAuthorizationServer,
  OAuthError,
} from '../src/index.js';
import { authorizeParams, ISSUER, newCache, newPkce, REDIRECT, RESOURCE, tokenParams } from './helpers.js';
import { type DocServer, jsonDocument, makeTestCertificate, startDocServer } from './tls-doc-server.js';

let tls: ReturnType<typeof makeTestCertificate>;
let server: DocServer;

beforeAll(async () => {
  tls = makeTestCertificate();
  server = await startDocServer(tls);
});
afterAll(async () => {
  await server?.close();
});

const toLoopback = async (): Promise<LookupAddress[]> => [{ address: '127.0.0.1', family: 4 }];

function docUrl(path: string): string {
  return `https://cimd.test:${server.port}${path}`;
}

/** Serve a valid document for `path` (optionally delayed), answering with `headers`. */
function serveClient(path: string, headers: Record<string, string> = {}, delayMs = 0): string {
  const id = docUrl(path);
  const handler = jsonDocument(
    { client_id: id, client_name: 'CIMD test client', redirect_uris: [REDIRECT] },
    headers,
  );
  server.route(path, (req, res) => {
    if (delayMs > 0) setTimeout(() => handler(req, res), delayMs);
    else handler(req, res);
  });
  return id;
}

function newAs(options: ClientMetadataFetchOptions | false = {}, cache = newCache()): AuthorizationServer {
  return createAuthorizationServer({
    cache,
    issuer: ISSUER,
    resource: RESOURCE,
    clientMetadataFetch:
      options === false ? false : { allowLoopback: true, resolveHost: toLoopback, ca: tls.cert, ...options },
  });
}

async function pageError(promise: Promise<unknown>): Promise<AuthorizationPageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthorizationPageError);
  return error as AuthorizationPageError;
}

async function oauthError(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

describe('client ID metadata documents', () => {
  it('advertises support, and not when turned off', () => {
    expect(newAs().metadata().client_id_metadata_document_supported).toBe(true);
    expect(newAs(false).metadata().client_id_metadata_document_supported).toBe(false);
  });

  it('authorizes, exchanges and refreshes with a URL client id', async () => {
    const clientId = serveClient('/flow.json');
    const as = newAs();
    const pkce = newPkce();
    const request = await as.validateAuthorizationRequest(authorizeParams(clientId, pkce));
    expect(request.client.client_name).toBe('CIMD test client');
    expect(request.client.token_endpoint_auth_method).toBe('none');
    const code = new URL(await as.completeAuthorization(request, 'demo', 'demo')).searchParams.get('code');
    const tokens = await as.token(
      tokenParams({
        grant_type: 'authorization_code',
        code: code ?? '',
        code_verifier: pkce.verifier,
        client_id: clientId,
        redirect_uri: REDIRECT,
        resource: RESOURCE,
      }),
    );
    expect(tokens.access_token).toBeTruthy();
    const refreshed = await as.token(
      tokenParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token ?? '',
        client_id: clientId,
      }),
    );
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    // One fetch served the authorize request and both token requests.
    expect(server.hits.get('/flow.json')).toBe(1);
  });

  it('refuses a redirect URI the document does not list, on the page', async () => {
    const clientId = serveClient('/listed.json');
    const error = await pageError(
      newAs().validateAuthorizationRequest(
        authorizeParams(clientId, newPkce(), { redirect_uri: 'https://elsewhere.example/cb' }),
      ),
    );
    expect(error.description).toContain('redirect_uri');
  });

  it('coalesces concurrent resolutions of one URL into one fetch', async () => {
    const clientId = serveClient('/coalesce.json', {}, 300);
    const as = newAs();
    const [a, b, c] = await Promise.all([
      as.clients.get(clientId),
      as.clients.get(clientId),
      as.clients.get(clientId),
    ]);
    expect(a?.client_id).toBe(clientId);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(server.hits.get('/coalesce.json')).toBe(1);
  });

  it('caches documents in the store, shared by every instance on it', async () => {
    const clientId = serveClient('/cached.json', { 'cache-control': 'max-age=600' });
    const cache = newCache();
    await newAs({}, cache).clients.get(clientId);
    await newAs({}, cache).clients.get(clientId);
    await newAs({}, cache).clients.get(clientId);
    expect(server.hits.get('/cached.json')).toBe(1);
  });

  it('peek reads a cached document and never fetches one', async () => {
    const clientId = serveClient('/peek.json');
    const as = newAs();
    expect(await as.clients.peek(clientId)).toBeUndefined();
    expect(server.hits.get('/peek.json') ?? 0).toBe(0);
    await as.clients.get(clientId);
    expect((await as.clients.peek(clientId))?.client_name).toBe('CIMD test client');
    expect(server.hits.get('/peek.json')).toBe(1);
  });

  it('fetches again once the cached document expires', async () => {
    const clientId = serveClient('/expiring.json', { 'cache-control': 'max-age=0' });
    const as = newAs({ minCacheMs: 100, maxCacheMs: 100 });
    await as.clients.get(clientId);
    await as.clients.get(clientId);
    expect(server.hits.get('/expiring.json')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await as.clients.get(clientId);
    expect(server.hits.get('/expiring.json')).toBe(2);
  });

  it('refuses a document whose client_id differs, and caches the failure briefly', async () => {
    const clientId = docUrl('/mismatch.json');
    server.route(
      '/mismatch.json',
      jsonDocument({ client_id: docUrl('/other.json'), redirect_uris: [REDIRECT] }),
    );
    const as = newAs();
    const page = await pageError(as.validateAuthorizationRequest(authorizeParams(clientId, newPkce())));
    expect(page.error).toBe('invalid_client');
    expect(page.description).toContain('does not equal');
    const token = await oauthError(
      as.token(
        tokenParams({ grant_type: 'refresh_token', refresh_token: 'x'.repeat(43), client_id: clientId }),
      ),
    );
    expect(token.error).toBe('invalid_client');
    expect(token.status).toBe(401);
    expect(server.hits.get('/mismatch.json')).toBe(1);
  });

  it('refuses a document URL that resolves to loopback when loopback is not allowed', async () => {
    const clientId = serveClient('/ssrf.json');
    const before = server.connections;
    const as = createAuthorizationServer({
      cache: newCache(),
      issuer: ISSUER,
      resource: RESOURCE,
      clientMetadataFetch: { resolveHost: toLoopback, ca: tls.cert },
    });
    const page = await pageError(as.validateAuthorizationRequest(authorizeParams(clientId, newPkce())));
    expect(page.error).toBe('invalid_client');
    expect(page.description).toContain('refused');
    expect(server.connections).toBe(before);
    expect(server.hits.get('/ssrf.json')).toBeUndefined();
  });

  it('answers 503 temporarily_unavailable at the token endpoint when the host is too slow', async () => {
    const clientId = serveClient('/slow.json', {}, 3000);
    const error = await oauthError(
      newAs({ timeoutMs: 300 }).token(
        tokenParams({ grant_type: 'refresh_token', refresh_token: 'x'.repeat(43), client_id: clientId }),
      ),
    );
    expect(error.error).toBe('temporarily_unavailable');
    expect(error.status).toBe(503);
  });

  it('bounds the fetches in flight at once, without caching the refusal', async () => {
    const first = serveClient('/busy-a.json', {}, 500);
    const second = serveClient('/busy-b.json');
    const as = newAs({ maxConcurrentFetches: 1 });
    const [a, b] = await Promise.allSettled([as.clients.get(first), as.clients.get(second)]);
    expect(a.status === 'fulfilled' && a.value?.client_id).toBe(first);
    expect(b.status).toBe('rejected');
    const refused = (b as PromiseRejectedResult).reason as OAuthError;
    expect(refused.error).toBe('temporarily_unavailable');
    expect(server.hits.get('/busy-b.json')).toBeUndefined();
    // Once the first fetch is done, the second URL is fetched normally.
    expect((await as.clients.get(second))?.client_id).toBe(second);
    expect(server.hits.get('/busy-b.json')).toBe(1);
  });

  it('treats URL client ids as unknown when CIMD is off, without fetching', async () => {
    const clientId = serveClient('/off.json');
    const error = await pageError(
      newAs(false).validateAuthorizationRequest(authorizeParams(clientId, newPkce())),
    );
    expect(error.error).toBe('invalid_client');
    expect(server.hits.get('/off.json')).toBeUndefined();
  });
});
