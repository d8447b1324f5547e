/**
 * What an MCP client and a user's browser do against the server: register (RFC 7591), post the
 * login form (`POST /authorize` with the request parameters and the 1C login/password), exchange
 * the code with PKCE, refresh, revoke, and call `/mcp`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Agent } from 'node:http';
import { type HttpResponse, header, httpRequest, jsonOf, postForm, postJson } from './http.js';

/** The redirect URI test clients register (nothing listens there: redirects are never followed). */
export const TEST_REDIRECT_URI = 'http://127.0.0.1:41000/cb';

/** A token response (RFC 6749 §5.1). */
export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

/** An unexpected answer in a flow step, with what came back. */
export class FlowError extends Error {
  readonly step: string;
  readonly response: HttpResponse;
  constructor(step: string, response: HttpResponse) {
    super(`${step} answered ${response.status}: ${response.body.slice(0, 300)}`);
    this.name = 'FlowError';
    this.step = step;
    this.response = response;
  }
}

/** Register a public client; resolves its `client_id`. */
export async function registerClient(base: string, redirectUris = [TEST_REDIRECT_URI]): Promise<string> {
  const response = await postJson(`${base}/register`, {
    redirect_uris: redirectUris,
    client_name: 'reliability',
  });
  const body = jsonOf(response) as { client_id?: unknown } | undefined;
  if (response.status !== 201 || typeof body?.client_id !== 'string')
    throw new FlowError('register', response);
  return body.client_id;
}

/** A PKCE verifier and its S256 challenge (RFC 7636). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Options of {@link submitLogin}. */
export interface LoginOptions {
  username?: string;
  password?: string;
  redirectUri?: string;
  state?: string;
  /** Source address of the "browser" (e.g. `127.0.0.9`). */
  localAddress?: string;
  timeoutMs?: number;
}

/**
 * Open the login page and post its form as a browser does (the page's signed `form_token`
 * included); resolves the raw answer of the POST (302 on success, not followed), or the page's own
 * answer when it showed no form (e.g. 503 while the store is down).
 */
export async function submitLogin(
  base: string,
  clientId: string,
  challenge: string,
  options: LoginOptions = {},
): Promise<HttpResponse> {
  const request = new URLSearchParams({
    client_id: clientId,
    redirect_uri: options.redirectUri ?? TEST_REDIRECT_URI,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: options.state ?? randomBytes(8).toString('hex'),
  });
  const transport = {
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  };
  const page = await httpRequest(`${base}/authorize?${request}`, transport);
  const token = /name="form_token" value="([^"]*)"/.exec(page.body)?.[1];
  if (page.status !== 200 || token === undefined) return page;
  const form = new URLSearchParams(request);
  form.set('form_token', token);
  form.set('username', options.username ?? 'demo');
  form.set('password', options.password ?? 'demo');
  form.set('action', 'login');
  return postForm(`${base}/authorize`, form, transport);
}

/** Log in and exchange the code: resolves the token response (throws {@link FlowError} otherwise). */
export async function loginForTokens(
  base: string,
  clientId: string,
  options: LoginOptions = {},
): Promise<Tokens> {
  const { verifier, challenge } = pkcePair();
  const login = await submitLogin(base, clientId, challenge, options);
  const location = header(login, 'location');
  if (login.status !== 302 || !location) throw new FlowError('authorize', login);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new FlowError('authorize (no code)', login);
  return exchangeCode(
    base,
    clientId,
    code,
    verifier,
    options.redirectUri ?? TEST_REDIRECT_URI,
    options.timeoutMs,
  );
}

/** `POST /token` with `grant_type=authorization_code`. */
export async function exchangeCode(
  base: string,
  clientId: string,
  code: string,
  verifier: string,
  redirectUri = TEST_REDIRECT_URI,
  timeoutMs?: number,
): Promise<Tokens> {
  const response = await postForm(
    `${base}/token`,
    new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: redirectUri,
    }),
    timeoutMs ? { timeoutMs } : {},
  );
  return tokensOf('token', response);
}

/** `POST /token` with `grant_type=refresh_token`: the raw answer (a race loser gets 400). */
export function refreshRaw(base: string, clientId: string, refreshToken: string): Promise<HttpResponse> {
  return postForm(
    `${base}/token`,
    new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken }),
  );
}

/** The token response in `response`, or a {@link FlowError}. */
export function tokensOf(step: string, response: HttpResponse): Tokens {
  const body = jsonOf(response) as Partial<Tokens> | undefined;
  if (
    response.status !== 200 ||
    typeof body?.access_token !== 'string' ||
    typeof body.refresh_token !== 'string'
  ) {
    throw new FlowError(step, response);
  }
  return body as Tokens;
}

/** `POST /revoke` (RFC 7009). */
export function revoke(base: string, token: string, clientId?: string): Promise<HttpResponse> {
  return postForm(
    `${base}/revoke`,
    new URLSearchParams({ token, ...(clientId ? { client_id: clientId } : {}) }),
  );
}

/** The MCP `tools/list` JSON-RPC body. */
export const TOOLS_LIST_BODY = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';

/** Headers of a Streamable HTTP MCP POST with a bearer token. */
export function mcpHeaders(token: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
}

/** `POST /mcp` `tools/list` with `token` (forwarded to 1C as the token's user when authorized). */
export function mcpToolsList(
  base: string,
  token: string,
  options: { agent?: Agent; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  return httpRequest(`${base}/mcp`, {
    method: 'POST',
    headers: mcpHeaders(token),
    body: TOOLS_LIST_BODY,
    ...options,
  });
}

/** `POST /mcp` `tools/call` of the emulator's `echo` tool. */
export function mcpEcho(
  base: string,
  token: string,
  text: string,
  timeoutMs?: number,
): Promise<HttpResponse> {
  return httpRequest(`${base}/mcp`, {
    method: 'POST',
    headers: mcpHeaders(token),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text } },
    }),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}
