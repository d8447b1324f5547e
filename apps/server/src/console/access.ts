/**
 * Who may use the console, checked before every console route except the sign-in page:
 * - GET: a valid session cookie, or `Authorization: Bearer <status token>` (scripts); otherwise a
 *   303 to the sign-in page (a wrong bearer token gets 401: a script gains nothing from a redirect).
 * - POST: only the session cookie (browsers never attach a bearer token by themselves, but they
 *   do attach cookies, so every POST also needs the CSRF token of that session and must come from
 *   the server's own origin); otherwise 403.
 */
import { parseBearerHeader } from '@oauth-cache/koa';
import type { Context, Middleware } from 'koa';
import { BodyError, readForm } from '../http/body.js';
import type { RequestOriginRules } from '../http/request-origin-rules.js';
import { sendHtml } from '../views/html.js';
import { type ConsoleCredentials, readSessionCookie } from './credentials.js';
import type { ServerEvents } from './event-feed.js';
import { consoleErrorPage } from './layout.js';

/** Largest console form accepted (a CSRF token and one id). */
export const CONSOLE_FORM_LIMIT = 8 * 1024;
/** CSRF "session" of bearer-authenticated pages: never a real session id, so their forms cannot post. */
const BEARER_SESSION = 'bearer';

/** What the access check leaves on `ctx.state.console`. */
export interface ConsoleState {
  /** The cookie session's id; absent for bearer access. */
  sessionId?: string;
  /** The CSRF token forms on this page carry. */
  csrf: string;
  /** A POST's form, already read and CSRF-checked. */
  form?: URLSearchParams;
}

/** The console state of a request that passed {@link consoleAccess}. */
export function consoleState(ctx: Context): ConsoleState {
  return (ctx.state as { console: ConsoleState }).console;
}

export interface ConsoleAccessOptions {
  credentials: ConsoleCredentials;
  originRules: RequestOriginRules;
  events: ServerEvents;
}

export function consoleAccess(options: ConsoleAccessOptions): Middleware {
  const { credentials, originRules, events } = options;
  return async function consoleAccessMiddleware(ctx, next) {
    const session = credentials.verifySession(readSessionCookie(ctx.get('cookie') || undefined));
    if (ctx.method === 'GET' || ctx.method === 'HEAD') {
      if (session) {
        setState(ctx, { sessionId: session.id, csrf: credentials.csrfToken(session.id) });
        return next();
      }
      const bearer = parseBearerHeader(ctx.req.headers.authorization);
      if (bearer.kind === 'token' && credentials.tokenMatches(bearer.token)) {
        setState(ctx, { csrf: credentials.csrfToken(BEARER_SESSION) });
        return next();
      }
      if (bearer.kind !== 'missing') {
        ctx.set('WWW-Authenticate', 'Bearer realm="oauth-cache-console"');
        return sendHtml(ctx, 401, consoleErrorPage('Not signed in', 'The status token is not valid.', false));
      }
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 303;
      ctx.redirect('/console/login');
      return;
    }
    if (!session) {
      return sendHtml(
        ctx,
        403,
        consoleErrorPage('Not signed in', 'Sign in to the console before changing anything.', false),
      );
    }
    const crossSite = crossSiteReason(ctx, originRules);
    if (crossSite) return refuse(ctx, events, crossSite);
    let form: URLSearchParams;
    try {
      form = await readForm(ctx, CONSOLE_FORM_LIMIT);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      if (error.status === 413) ctx.set('Connection', 'close');
      return sendHtml(ctx, error.status, consoleErrorPage('Invalid request', error.description, true));
    }
    const tokens = form.getAll('csrf');
    if (tokens.length !== 1 || !credentials.csrfMatches(session.id, tokens[0])) {
      return refuse(ctx, events, tokens.length === 0 ? 'csrf token missing' : 'csrf token invalid');
    }
    setState(ctx, { sessionId: session.id, csrf: credentials.csrfToken(session.id), form });
    return next();
  };
}

/**
 * Why a console POST is refused as cross-site, or `undefined`: the login form's rule. Browsers send
 * `Sec-Fetch-Site` and `Origin` on form posts; only the public origin's own pages may post.
 */
export function crossSiteReason(ctx: Context, rules: RequestOriginRules): string | undefined {
  const site = ctx.get('Sec-Fetch-Site').toLowerCase();
  if (site !== '' && site !== 'same-origin' && site !== 'none') return `sec-fetch-site ${site}`;
  const origin = ctx.get('Origin');
  if (origin !== '' && !rules.isPublicOrigin(origin)) return 'foreign origin';
  return undefined;
}

function refuse(ctx: Context, events: ServerEvents, reason: string): void {
  events.report(
    'warn',
    { event: 'console_post_refused', reason, path: ctx.path, clientAddress: ctx.ip },
    'console post refused',
  );
  sendHtml(
    ctx,
    403,
    consoleErrorPage(
      'Request refused',
      'This form was not sent from a console page of this server, or the page is too old. Open the console again and retry.',
      true,
    ),
  );
}

function setState(ctx: Context, state: ConsoleState): void {
  (ctx.state as { console?: ConsoleState }).console = state;
}
