/**
 * `/console`: the operator console's routes. Mounted only when a status token is configured
 * (without one every `/console` path is the app's plain 404). Sign-in is the only route open
 * without a credential; {@link consoleAccess} guards the rest.
 */
import Router from '@koa/router';
import { addressBucket } from '@oauth-cache/authorization-server';
import { StoreUnavailableError } from '@oauth-cache/core';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { BodyError, readForm } from '../http/body.js';
import type { IpWindowLimit } from '../http/ip-window-limit.js';
import type { RequestOriginRules } from '../http/request-origin-rules.js';
import { sendHtml } from '../views/html.js';
import { CONSOLE_FORM_LIMIT, consoleAccess, consoleState, crossSiteReason } from './access.js';
import { type ClientLookup, clientInfos } from './client-info.js';
import { type ConsoleCredentials, clearedSessionCookie, sessionCookie } from './credentials.js';
import type { GrantDirectory } from './directory.js';
import type { ServerEvents } from './event-feed.js';
import type { EventRing } from './event-ring.js';
import { eventsPage } from './events-view.js';
import { consoleErrorPage } from './layout.js';
import type { StatsSampler } from './stats-sampler.js';
import { statsPage } from './stats-view.js';
import { confirmPage, NOTICES, signInPage, userHref, userLabel, userPage, usersPage } from './views.js';

/** Users per page of `/console`. */
export const USERS_PER_PAGE = 50;
/** A user hash as the directory makes them (a digest); anything else is refused before a lookup. */
const USER_HASH = /^[A-Za-z0-9_.:-]{1,200}$/;
const MAX_LOGIN = 256;
const MAX_CURSOR = 1024;

export interface ConsoleRouteDeps {
  credentials: ConsoleCredentials;
  /** `undefined` when the installed core has no directory: data pages answer 503. */
  directory: GrantDirectory | undefined;
  clients: ClientLookup;
  ring: EventRing;
  sampler: StatsSampler;
  events: ServerEvents;
  logger: Logger;
  originRules: RequestOriginRules;
  /** Failed sign-ins per address (shared by every instance through the store). */
  signInLimit: IpWindowLimit;
  /** Mark the cookie `Secure` (the public URL is https). */
  secureCookie: boolean;
}

export function consoleRoutes(deps: ConsoleRouteDeps): Router {
  const router = new Router();
  const access = consoleAccess(deps);

  router.get('/console/login', (ctx) => sendHtml(ctx, 200, signInPage()));
  router.post('/console/login', (ctx) => signIn(ctx, deps));
  router.post('/console/logout', access, (ctx) => {
    ctx.append('Set-Cookie', clearedSessionCookie(deps.secureCookie));
    seeOther(ctx, '/console/login');
  });

  router.get('/console', access, (ctx) =>
    withDirectory(ctx, deps, async (directory) => {
      const raw = ctx.query.cursor;
      if (raw !== undefined && (typeof raw !== 'string' || raw === '' || raw.length > MAX_CURSOR)) {
        return badRequest(ctx, 'The page link is not valid. Start again from the first page.');
      }
      let page: Awaited<ReturnType<GrantDirectory['listUsers']>>;
      try {
        page = await directory.listUsers({ limit: USERS_PER_PAGE, ...(raw ? { cursor: raw } : {}) });
      } catch (error) {
        if (error instanceof TypeError) {
          return badRequest(ctx, 'The page link is not valid. Start again from the first page.');
        }
        throw error;
      }
      const { csrf, sessionId } = consoleState(ctx);
      sendHtml(
        ctx,
        200,
        usersPage({
          page,
          ...(raw ? { cursor: raw } : {}),
          ...(sessionId ? { csrf } : {}),
          now: Date.now(),
          ...(noticeOf(ctx) ? { notice: noticeOf(ctx) } : {}),
        }),
      );
    }),
  );

  router.get('/console/find', access, (ctx) =>
    withDirectory(ctx, deps, async (directory) => {
      const login = typeof ctx.query.login === 'string' ? ctx.query.login.trim() : '';
      if (login === '' || login.length > MAX_LOGIN) return badRequest(ctx, 'Type a 1C login to find.');
      let hash: string;
      try {
        hash = directory.userHashOf(login);
      } catch {
        // InvalidInputError: not something a login can be (control characters, too long).
        return badRequest(ctx, 'That is not a valid 1C login.');
      }
      const detail = await directory.getUser(hash);
      if (!detail) return notFound(ctx, `Nobody signed in as "${login}" holds a live grant.`);
      seeOther(ctx, userHref(hash));
    }),
  );

  router.get('/console/users/:userHash', access, (ctx) =>
    withUser(ctx, deps, async (_directory, detail) => {
      const clients = await clientInfos(
        deps.clients,
        detail.grants.flatMap((g) => (g.clientId ? [g.clientId] : [])),
      );
      const { csrf, sessionId } = consoleState(ctx);
      const notice = noticeOf(ctx);
      sendHtml(
        ctx,
        200,
        userPage({
          detail,
          clients,
          ...(sessionId ? { csrf } : {}),
          ...(notice ? { notice } : {}),
          now: Date.now(),
        }),
      );
    }),
  );

  router.get('/console/users/:userHash/revoke', access, (ctx) =>
    withUser(ctx, deps, async (_directory, detail) => {
      const { csrf } = consoleState(ctx);
      const grantId = single(ctx.query.grant);
      const sessionRef = single(ctx.query.session);
      if (grantId !== undefined) {
        const grant = detail.grants.find((g) => g.id === grantId);
        if (!grant) return notFound(ctx, 'This grant does not exist any more.');
        const clients = grant.clientId ? await clientInfos(deps.clients, [grant.clientId]) : new Map();
        const clientName =
          (grant.clientId ? clients.get(grant.clientId)?.name : undefined) ??
          grant.clientId ??
          'unknown client';
        return sendHtml(
          ctx,
          200,
          confirmPage(detail.user, { kind: 'grant', id: grant.id, clientName }, csrf),
        );
      }
      if (sessionRef !== undefined) {
        if (!detail.sessions.some((s) => s.ref === sessionRef)) {
          return notFound(ctx, 'This session does not exist any more.');
        }
        return sendHtml(ctx, 200, confirmPage(detail.user, { kind: 'session', ref: sessionRef }, csrf));
      }
      if (single(ctx.query.all) === '1')
        return sendHtml(ctx, 200, confirmPage(detail.user, { kind: 'user' }, csrf));
      badRequest(ctx, 'Say what to revoke: a grant, a session or every grant of the user.');
    }),
  );

  router.post('/console/users/:userHash/revoke', access, (ctx) =>
    withUser(ctx, deps, async (directory, detail) => {
      const form = consoleState(ctx).form ?? new URLSearchParams();
      const hash = detail.user.userHash;
      const actor = { operator: 'console', address: ctx.ip };
      const grants = form.getAll('grant');
      const sessions = form.getAll('session');
      const all = form.getAll('all');
      if (grants.length + sessions.length + all.length !== 1) {
        return badRequest(ctx, 'Say what to revoke: exactly one grant, one session or every grant.');
      }
      let notice: string;
      let fields: Record<string, unknown>;
      if (grants[0] !== undefined) {
        const revoked = await directory.revokeGrant(hash, grants[0], actor);
        notice = revoked > 0 ? 'grant-revoked' : 'nothing-revoked';
        fields = { action: 'revoke_grant', grantId: grants[0], revokedTokens: revoked };
      } else if (sessions[0] !== undefined) {
        const revoked = await directory.revokeSession(hash, sessions[0], actor);
        notice = revoked ? 'session-revoked' : 'nothing-revoked';
        fields = { action: 'revoke_session', revoked };
      } else if (all[0] === '1') {
        const revoked = await directory.revokeUser(hash, actor);
        notice = revoked > 0 ? 'user-revoked' : 'nothing-revoked';
        fields = { action: 'revoke_user', revokedTokens: revoked };
      } else {
        return badRequest(ctx, 'Say what to revoke: exactly one grant, one session or every grant.');
      }
      deps.logger.info(
        {
          event: 'operator_action',
          operator: 'console',
          user: userLabel(detail.user),
          userHash: hash,
          clientAddress: ctx.ip,
          ...fields,
        },
        `console: operator ${String(fields.action).replace('_', 'd ')}`,
      );
      // Back to the user while something is left, else to the list.
      const still = await directory.getUser(hash);
      seeOther(ctx, `${still ? userHref(hash) : '/console'}?notice=${notice}`);
    }),
  );

  router.get('/console/events', access, (ctx) => {
    const raw = ctx.query.type;
    const types = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter(
      (t) => t.length > 0 && t.length <= 64,
    );
    const selected = new Set(types.slice(0, 50));
    const { csrf, sessionId } = consoleState(ctx);
    sendHtml(
      ctx,
      200,
      eventsPage({
        events: deps.ring.list(selected),
        types: deps.ring.types(),
        selected,
        ...(sessionId ? { csrf } : {}),
        now: Date.now(),
      }),
    );
  });

  router.get('/console/stats', access, (ctx) => {
    const { csrf, sessionId } = consoleState(ctx);
    sendHtml(
      ctx,
      200,
      statsPage({
        points: deps.sampler.points(),
        intervalMs: deps.sampler.intervalMs,
        ...(sessionId ? { csrf } : {}),
      }),
    );
  });

  // Anything else under /console: a console 404 page, after the access check (an unauthenticated
  // visitor learns nothing about which paths exist).
  router.all('/console/{*rest}', access, (ctx) => notFound(ctx, 'There is no such console page.'));
  return router;
}

async function signIn(ctx: Context, deps: ConsoleRouteDeps): Promise<void> {
  const crossSite = crossSiteReason(ctx, deps.originRules);
  if (crossSite) {
    deps.events.report(
      'warn',
      { event: 'console_post_refused', reason: crossSite, path: ctx.path, clientAddress: ctx.ip },
      'console sign-in refused: cross-site',
    );
    return sendHtml(
      ctx,
      403,
      signInPage('This form was sent from another website. Open the console here and sign in.'),
    );
  }
  // Counted per address as the login form counts them (an IPv6 address as its /64).
  const bucket = addressBucket(ctx.ip);
  const wait = await deps.signInLimit.retryAfter(bucket);
  if (wait !== undefined) return limited(ctx, deps, wait);
  let form: URLSearchParams;
  try {
    form = await readForm(ctx, CONSOLE_FORM_LIMIT);
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    if (error.status === 413) ctx.set('Connection', 'close');
    return sendHtml(ctx, error.status, signInPage('The form could not be read.'));
  }
  const tokens = form.getAll('token');
  const token = tokens.length === 1 ? (tokens[0] ?? '') : '';
  if (token === '' || !deps.credentials.tokenMatches(token)) {
    const over = await deps.signInLimit.hit(bucket);
    deps.events.report(
      'warn',
      {
        event: 'console_sign_in_failed',
        clientAddress: ctx.ip,
        reason: token === '' ? 'no token' : 'wrong token',
      },
      'console sign-in failed',
    );
    if (over !== undefined) return limited(ctx, deps, over);
    return sendHtml(ctx, 401, signInPage('That is not the status token of this server.'));
  }
  const { value } = deps.credentials.issueSession();
  ctx.append('Set-Cookie', sessionCookie(value, deps.secureCookie));
  deps.logger.info({ event: 'console_signed_in', clientAddress: ctx.ip }, 'console: operator signed in');
  seeOther(ctx, '/console');
}

function limited(ctx: Context, deps: ConsoleRouteDeps, wait: number): void {
  deps.events.report(
    'warn',
    { event: 'console_sign_in_limited', clientAddress: ctx.ip, retryAfter: wait },
    'console sign-in refused: too many failures',
  );
  ctx.set('Retry-After', String(wait));
  sendHtml(
    ctx,
    429,
    signInPage(`Too many failed attempts from this address. Try again in ${Math.ceil(wait / 60)} min.`),
  );
}

/** Run `then` with the directory, answering 503 pages when there is none or the store is down. */
async function withDirectory(
  ctx: Context,
  deps: ConsoleRouteDeps,
  then: (directory: GrantDirectory) => Promise<void>,
): Promise<void> {
  if (!deps.directory) {
    return sendHtml(
      ctx,
      503,
      consoleErrorPage('Not available', 'This build of the cache has no grant directory.', true),
    );
  }
  try {
    await then(deps.directory);
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    ctx.set('Retry-After', '5');
    sendHtml(
      ctx,
      503,
      consoleErrorPage(
        'Temporarily unavailable',
        'The token store does not answer. Try again in a moment.',
        true,
      ),
    );
  }
}

/** {@link withDirectory} plus the user named by the `:userHash` parameter (400 malformed, 404 unknown). */
function withUser(
  ctx: Context,
  deps: ConsoleRouteDeps,
  then: (
    directory: GrantDirectory,
    detail: NonNullable<Awaited<ReturnType<GrantDirectory['getUser']>>>,
  ) => Promise<void>,
): Promise<void> {
  return withDirectory(ctx, deps, async (directory) => {
    const hash = (ctx.params as { userHash?: string }).userHash ?? '';
    if (!USER_HASH.test(hash)) return badRequest(ctx, 'This user link is not valid.');
    let detail: Awaited<ReturnType<GrantDirectory['getUser']>>;
    try {
      detail = await directory.getUser(hash);
    } catch (error) {
      if (error instanceof TypeError) return badRequest(ctx, 'This user link is not valid.');
      throw error;
    }
    if (!detail) return notFound(ctx, 'This user holds no live grant (or never did).');
    await then(directory, detail);
  });
}

function noticeOf(ctx: Context): string | undefined {
  const notice = single(ctx.query.notice);
  return notice !== undefined && Object.hasOwn(NOTICES, notice) ? notice : undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function seeOther(ctx: Context, location: string): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.status = 303;
  ctx.redirect(location);
}

function badRequest(ctx: Context, message: string): void {
  sendHtml(ctx, 400, consoleErrorPage('Invalid request', message, true));
}

function notFound(ctx: Context, message: string): void {
  sendHtml(ctx, 404, consoleErrorPage('Not found', message, true));
}
