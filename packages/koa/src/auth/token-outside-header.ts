import type { Context } from 'koa';
import { readLimitedBody } from '../http/limited-body.js';

/** Where a token was found outside the `Authorization` header, or why the body could not be checked. */
export type TokenPlacement = 'query' | 'body' | 'body_too_large' | undefined;

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * True when the query string carries an `access_token` parameter (RFC 6750 section 2.3), also when
 * its name is percent-encoded (`%61ccess_token`). Reads the raw request target: most requests have
 * no query string, and most query strings neither name `access_token` nor carry a `%`, so the full
 * parse only runs when it could find one.
 */
export function hasQueryToken(ctx: Context): boolean {
  const url = ctx.req.url ?? '';
  const start = url.indexOf('?');
  if (start === -1) return false;
  if (url.indexOf('access_token', start) === -1 && url.indexOf('%', start) === -1) return false;
  return new URLSearchParams(url.slice(start + 1)).has('access_token');
}

/**
 * True when the request has a form body (RFC 6750 section 2.2 placement), checked without reading
 * it. No `Content-Type` (every GET in practice): no form body, without going through `type-is`,
 * and found in the raw header list: `req.headers` is built on first access (1–3 µs a request), and
 * nothing else on an authorized GET needs it.
 */
export function hasFormBody(ctx: Context): boolean {
  if (!hasContentType(ctx.req.rawHeaders)) return false;
  return Boolean(ctx.request.is(FORM_TYPE));
}

function hasContentType(raw: readonly string[]): boolean {
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index];
    if (name !== undefined && name.length === 12 && name.toLowerCase() === 'content-type') return true;
  }
  return false;
}

/**
 * Look for an `access_token` field in a form body (call only when {@link hasFormBody}). MCP forbids
 * tokens outside the Authorization header, so the middleware answers 400 `invalid_request`.
 *
 * A form body not yet parsed is read here (at most `limitBytes`) and left parsed on
 * `ctx.request.body` / `ctx.request.rawBody`, which body parsers such as `@koa/bodyparser` honour,
 * so later middleware still sees it.
 */
export async function findTokenInForm(ctx: Context, limitBytes: number): Promise<TokenPlacement> {
  const request = ctx.request as unknown as { body?: unknown; rawBody?: string };
  if (request.body === undefined) {
    const text = await readLimited(ctx, limitBytes);
    if (text === undefined) return 'body_too_large';
    request.rawBody = text;
    request.body = formToObject(new URLSearchParams(text));
  }
  const body = request.body;
  return typeof body === 'object' && body !== null && 'access_token' in body ? 'body' : undefined;
}

function formToObject(params: URLSearchParams): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of params) {
    const previous = result[key];
    result[key] =
      previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return result;
}

/**
 * Read the body as UTF-8, or resolve `undefined` as soon as it exceeds `limitBytes` (the rest is
 * left unread: the caller answers 413 and closes the connection).
 */
async function readLimited(ctx: Context, limitBytes: number): Promise<string | undefined> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limitBytes) return undefined;
  const read = await readLimitedBody(ctx.req, limitBytes, 'leave');
  return read.kind === 'complete' ? read.body.toString('utf8') : undefined;
}
