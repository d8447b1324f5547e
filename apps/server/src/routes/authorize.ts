/**
 * `GET|POST /authorize`: the login form (RFC 6749 §4.1.1). GET validates the request and shows the
 * form with a signed `form_token`; POST refuses cross-site posts, validates the request again (the
 * parameters travel in hidden inputs), checks the form token, applies the login rate limits, checks
 * the 1C credentials and redirects back to the client with a code.
 */
import Router from '@koa/router';
import {
  AuthorizationPageError,
  AuthorizationRedirectError,
  type AuthorizationRequest,
  type AuthorizationServer,
  FORM_TOKEN_FIELD,
  type OneCCredentialCheck,
} from '@oauth-cache/authorization-server';
import { StoreUnavailableError } from '@oauth-cache/core';
import { type StoreFailureReporter, storeFailureLog } from '@oauth-cache/koa';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { type ServerEvents, serverEvents } from '../console/event-feed.js';
import { BodyError, readForm } from '../http/body.js';
import type { RequestOriginRules } from '../http/request-origin-rules.js';
import { sendHtml } from '../views/html.js';
import { loginPage } from '../views/login-page.js';
import { messagePage } from '../views/message-page.js';

/** Largest login form accepted. */
export const AUTHORIZE_BODY_LIMIT = 16 * 1024;
const MAX_LOGIN = 256;
const MAX_PASSWORD = 1024;

/** Checks a 1C login/password pair (see `checkOneCCredentials`). */
export type CredentialChecker = (login: string, password: string) => Promise<OneCCredentialCheck>;

export interface AuthorizeRouteDeps {
  as: AuthorizationServer;
  checkCredentials: CredentialChecker;
  logger: Logger;
  /** The server's origin rules: a login post must come from the public origin's own page. */
  originRules: RequestOriginRules;
  /**
   * Writes the security lines (failed logins, lockouts, cross-site posts, refused client metadata
   * documents) and feeds the operator console; default: the logger only.
   */
  events?: ServerEvents;
}

/** The deps with the reporter resolved. */
type Deps = AuthorizeRouteDeps & { events: ServerEvents };

export function authorizeRoutes(options: AuthorizeRouteDeps): Router {
  const deps: Deps = {
    ...options,
    events: options.events ?? serverEvents(options.logger),
  };
  const router = new Router();
  // The login page answers store failures itself (an HTML 503), so they never reach
  // oauthErrorHandler's log: report them here, throttled the same way.
  const storeFailed = storeFailureLog({ logger: deps.logger, level: 'warn' });
  router.get('/authorize', async (ctx) => {
    const params = new URLSearchParams(ctx.querystring);
    await withValidRequest(ctx, deps, storeFailed, params, async (request) => {
      sendHtml(ctx, 200, loginPage({ request, params, formToken: deps.as.formTokens.issue(request) }));
    });
  });
  router.post('/authorize', async (ctx) => {
    const crossSite = crossSiteReason(ctx, deps.originRules);
    if (crossSite) {
      deps.events.report(
        'warn',
        { event: 'login_cross_site', reason: crossSite, clientAddress: ctx.ip },
        'login form post refused: cross-site',
      );
      sendHtml(
        ctx,
        403,
        messagePage(
          'Sign-in refused',
          'This sign-in form was sent from another website. Open the sign-in link again and sign in on this page.',
        ),
      );
      return;
    }
    let form: URLSearchParams;
    try {
      form = await readForm(ctx, AUTHORIZE_BODY_LIMIT);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      if (error.status === 413) ctx.set('Connection', 'close');
      sendHtml(
        ctx,
        error.status,
        messagePage('Invalid request', 'The sign-in form could not be read.', error.description),
      );
      return;
    }
    await withValidRequest(ctx, deps, storeFailed, form, (request) => login(ctx, deps, form, request));
  });
  return router;
}

async function withValidRequest(
  ctx: Context,
  deps: Deps,
  storeFailed: StoreFailureReporter,
  params: URLSearchParams,
  then: (request: AuthorizationRequest) => Promise<void>,
): Promise<void> {
  try {
    await then(await deps.as.validateAuthorizationRequest(params));
  } catch (error) {
    if (error instanceof AuthorizationRedirectError) {
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect(error.location);
      return;
    }
    if (error instanceof AuthorizationPageError && error.description.startsWith('client metadata document')) {
      // A client ID metadata document that was refused or could not be fetched (the resolver's
      // descriptions start so): worth an operator's look, the client may be misconfigured or hostile.
      deps.events.report(
        'warn',
        {
          event: 'client_metadata_refused',
          reason: error.description,
          clientId: params.get('client_id') ?? undefined,
          clientAddress: ctx.ip,
        },
        'client metadata document refused',
      );
    }
    if (error instanceof AuthorizationPageError && error.error === 'unauthorized_client') {
      sendHtml(
        ctx,
        400,
        messagePage(
          'This application is not allowed here',
          'The application that sent you here would receive your sign-in at a website the operator of this server has not approved. Nothing was sent to it.',
          `${error.error}: ${error.description}`,
        ),
      );
      return;
    }
    if (error instanceof AuthorizationPageError) {
      sendHtml(
        ctx,
        400,
        messagePage(
          'This sign-in link is not valid',
          'The application that sent you here is not registered correctly, so you cannot be sent back to it.',
          `${error.error}: ${error.description}`,
        ),
      );
      return;
    }
    if (error instanceof StoreUnavailableError) {
      storeFailed(error, { method: ctx.method, path: ctx.path, ...requestId(ctx) });
      ctx.set('Retry-After', '5');
      sendHtml(
        ctx,
        503,
        messagePage(
          'Temporarily unavailable',
          'The sign-in service cannot reach its storage. Try again in a moment.',
        ),
      );
      return;
    }
    throw error;
  }
}

async function login(ctx: Context, deps: Deps, form: URLSearchParams, request: AuthorizationRequest) {
  const actions = form.getAll('action');
  if (actions.length === 1 && actions[0] === 'deny') {
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(deps.as.denyAuthorization(request));
    return;
  }
  const usernames = form.getAll('username');
  const passwords = form.getAll('password');
  const username = (usernames[0] ?? '').trim();
  const password = passwords[0] ?? '';
  const again = (status: number, error: string) =>
    sendHtml(
      ctx,
      status,
      loginPage({
        request,
        params: form,
        formToken: deps.as.formTokens.issue(request),
        username: username.slice(0, MAX_LOGIN),
        error,
      }),
    );

  // Before the password is looked at: the POST must come from a page this server rendered for
  // exactly this request, recently.
  const tokens = form.getAll(FORM_TOKEN_FIELD);
  const formCheck = tokens.length > 1 ? 'invalid' : deps.as.formTokens.verify(request, tokens[0]);
  if (formCheck !== 'ok') {
    deps.logger.info(
      { event: 'login_form_refused', reason: formCheck, clientAddress: ctx.ip },
      'login form refused',
    );
    return again(
      400,
      formCheck === 'expired'
        ? 'The sign-in form expired. Please sign in again.'
        : 'The sign-in form was not valid. Please sign in again.',
    );
  }

  if (usernames.length > 1 || passwords.length > 1)
    return again(400, 'The form was sent with repeated fields. Please sign in again.');
  if (username === '') return again(400, 'Enter your 1C login.');
  if (username.length > MAX_LOGIN || password.length > MAX_PASSWORD)
    return again(400, 'The login or password is too long.');

  const attempt = await deps.as.loginRateLimiter.begin(username, ctx.ip);
  if (!attempt.allowed) {
    ctx.set('Retry-After', String(attempt.retryAfterSeconds));
    const successes = attempt.limit === 'user_successes';
    deps.events.report(
      'warn',
      {
        event: 'login_rate_limited',
        limit: attempt.limit,
        retryAfter: attempt.retryAfterSeconds,
        clientAddress: ctx.ip,
      },
      successes ? 'login refused: too many sign-ins of this user' : 'login refused: too many failures',
    );
    const wait = formatWait(attempt.retryAfterSeconds);
    return again(
      429,
      successes
        ? `This account has signed in too many times recently. Try again in ${wait}.`
        : `Too many failed sign-in attempts. Try again in ${wait}.`,
    );
  }
  if (attempt.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, attempt.delayMs));

  // On the outcome lines, so an operator sees the slowdown at work.
  const slowed = attempt.delayMs > 0 ? { delayMs: attempt.delayMs } : {};
  const outcome = await deps.checkCredentials(username, password);
  switch (outcome) {
    case 'ok': {
      await attempt.succeeded();
      const location = await deps.as.completeAuthorization(request, username, password);
      deps.events.report(
        'info',
        { event: 'login_ok', user: username, clientId: request.clientId, clientAddress: ctx.ip, ...slowed },
        'login succeeded',
      );
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect(location);
      return;
    }
    case 'invalid':
      await attempt.failed();
      deps.events.report(
        'info',
        { event: 'login_failed', clientId: request.clientId, clientAddress: ctx.ip, ...slowed },
        'login failed: wrong credentials',
      );
      return again(401, 'Wrong 1C login or password.');
    case 'forbidden':
      await attempt.abandoned();
      deps.events.report(
        'info',
        { event: 'login_forbidden', user: username, clientAddress: ctx.ip },
        'login refused by 1C: no access to the HTTP service',
      );
      return again(403, 'This 1C user has no right to use the MCP service. Ask your 1C administrator.');
    case 'unavailable':
      await attempt.abandoned();
      ctx.set('Retry-After', '10');
      return sendHtml(
        ctx,
        503,
        messagePage(
          '1C is not reachable',
          'The 1C server did not answer, so your login could not be checked. Nothing was saved. Go back and try again in a minute.',
        ),
      );
  }
}

/**
 * Why a login POST is refused as cross-site, or `undefined`. Browsers send `Sec-Fetch-Site` and
 * `Origin` on form posts; a post from another site's page must not reach the password check.
 * Requests without either header (non-browser clients) still need a valid form token.
 */
function crossSiteReason(ctx: Context, rules: RequestOriginRules): string | undefined {
  const site = ctx.get('Sec-Fetch-Site').toLowerCase();
  if (site !== '' && site !== 'same-origin' && site !== 'none') return `sec-fetch-site ${site}`;
  // Only the public origin itself: MCP_ALLOWED_ORIGINS lets pages call /mcp, not post passwords.
  const origin = ctx.get('Origin');
  if (origin !== '' && !rules.isPublicOrigin(origin)) return 'foreign origin';
  return undefined;
}

function requestId(ctx: Context): { reqId?: string } {
  const id = (ctx.state as { requestId?: unknown }).requestId;
  return typeof id === 'string' ? { reqId: id } : {};
}

function formatWait(seconds: number): string {
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
