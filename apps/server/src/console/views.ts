/**
 * The console's sign-in, users, user and confirmation pages. Plain HTML forms and links: every
 * action works without JavaScript, and every revocation goes through a confirmation page (GET shows
 * the form, POST acts).
 */
import { html, joinHtml, type SafeHtml } from '../views/html.js';
import type { GrantSummary, SessionSummary, UserDetail, UserSummary, UsersPage } from './directory.js';
import { consolePage, csrfInput, timeCell } from './layout.js';

/** The sign-in page: paste the status token. */
export function signInPage(error?: string): SafeHtml {
  return consolePage(
    'Sign in',
    html`<h1>Operator console</h1>
<p class="meta">Paste the status token (<code>OAUTH_CACHE_STATUS_TOKEN</code>) of this server. The session lasts an hour.</p>
${error ? html`<div class="error" role="alert">${error}</div>` : ''}
<form method="post" action="/console/login" autocomplete="off">
<label for="token">Status token</label>
<input type="password" id="token" name="token" required maxlength="1024" autofocus>
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>`,
  );
}

/** What the users page shows. */
export interface UsersPageInput {
  page: UsersPage;
  /** The cursor this page was opened with (a "first page" link is shown when set). */
  cursor?: string;
  csrf?: string;
  now: number;
  /** Login typed in the find form, kept after a miss. */
  login?: string;
  error?: string;
  /** A key of {@link NOTICES}. */
  notice?: string;
}

/** The users with live grants, one page. */
export function usersPage(input: UsersPageInput): SafeHtml {
  const { page, now } = input;
  const rows = joinHtml(
    page.users.map(
      (user) => html`<tr>
<td><a href="${userHref(user.userHash)}">${userLabel(user)}</a></td>
<td class="num">${user.grants}</td>
<td class="num">${user.sessions}</td>
${timeCell(user.expiresAt, now)}
</tr>`,
    ),
    html`\n`,
  );
  const pager = html`${input.cursor ? html`<a href="/console">First page</a>` : ''}${
    page.next ? html`<a href="/console?cursor=${encodeURIComponent(page.next)}" rel="next">Next page</a>` : ''
  }`;
  const notice = input.notice ? NOTICES[input.notice] : undefined;
  return consolePage(
    'Users',
    html`<h1>Connected users</h1>
<p class="meta"><span id="total">${page.total}</span> ${page.total === 1 ? 'user' : 'users'} with live grants.</p>
<form method="get" action="/console/find" class="search">
<div><label for="login">Find by 1C login</label>
<input type="text" id="login" name="login" value="${input.login ?? ''}" required maxlength="256" autocapitalize="none" spellcheck="false"></div>
<button type="submit" class="primary">Find</button>
</form>
${input.error ? html`<div class="error" role="alert">${input.error}</div>` : ''}
${notice ? html`<div class="notice" role="status">${notice}</div>` : ''}
<table id="users">
<thead><tr><th>User</th><th class="num">Grants</th><th class="num">Sessions</th><th>Expires</th></tr></thead>
<tbody>
${page.users.length > 0 ? rows : html`<tr><td colspan="4">Nobody is connected.</td></tr>`}
</tbody>
</table>
<div class="pager">${pager}</div>`,
    { section: 'users', ...(input.csrf ? { csrf: input.csrf } : {}) },
  );
}

/** What the console knows of a client: its name (when the registry has it) and its redirect hosts. */
export interface ClientInfo {
  name?: string;
  redirectHosts: string[];
}

/** Notices shown after a revocation (a fixed vocabulary: nothing from the query is echoed). */
export const NOTICES: Readonly<Record<string, string>> = {
  'grant-revoked': 'The grant was revoked. Its tokens are refused on every instance.',
  'session-revoked': 'The session was revoked.',
  'user-revoked': 'Every grant of this user was revoked.',
  'nothing-revoked': 'Nothing was revoked: it had already ended.',
};

/** What the user page shows. */
export interface UserPageInput {
  detail: UserDetail;
  clients: ReadonlyMap<string, ClientInfo>;
  csrf?: string;
  notice?: string;
  now: number;
}

/** One user's grants and sessions with the revoke buttons. */
export function userPage(input: UserPageInput): SafeHtml {
  const { detail, now } = input;
  const { user } = detail;
  const base = userHref(user.userHash);
  const grants = joinHtml(
    detail.grants.map((grant) => grantRow(grant, input.clients, base, now)),
    html`\n`,
  );
  const sessions = joinHtml(
    detail.sessions.map((session) => sessionRow(session, base, now)),
    html`\n`,
  );
  const notice = input.notice ? NOTICES[input.notice] : undefined;
  return consolePage(
    userLabel(user),
    html`<h1>${userLabel(user)}</h1>
${notice ? html`<div class="notice" role="status">${notice}</div>` : ''}
<p class="meta">${user.grants} grants, ${user.sessions} sessions. A grant is one sign-in of one client, kept through refresh rotation.</p>
<h2>Grants</h2>
<table id="grants">
<thead><tr><th>Client</th><th>Redirect host</th><th>Created</th><th>Last used</th><th>Expires</th><th>Session</th><th class="num">Rotations</th><th></th></tr></thead>
<tbody>
${detail.grants.length > 0 ? grants : html`<tr><td colspan="8">No live grants.</td></tr>`}
</tbody>
</table>
<h2>Sessions</h2>
<table id="sessions">
<thead><tr><th>Session</th><th>Created</th><th>Expires</th><th class="num">Grants</th><th></th></tr></thead>
<tbody>
${detail.sessions.length > 0 ? sessions : html`<tr><td colspan="5">No sessions.</td></tr>`}
</tbody>
</table>
<p><a class="button danger" id="revoke-user" href="${base}/revoke?all=1">Revoke every grant of this user</a></p>
<p><a href="/console">Back to users</a></p>`,
    { section: 'users', ...(input.csrf ? { csrf: input.csrf } : {}) },
  );
}

function grantRow(
  grant: GrantSummary,
  clients: ReadonlyMap<string, ClientInfo>,
  base: string,
  now: number,
): SafeHtml {
  const info = grant.clientId ? clients.get(grant.clientId) : undefined;
  const name = info?.name ?? grant.clientId ?? 'unknown client';
  const scopes = grant.scopes?.length ? html`<br><span class="meta">${grant.scopes.join(' ')}</span>` : '';
  const clientId = info?.name && grant.clientId ? html`<br><span class="meta">${grant.clientId}</span>` : '';
  return html`<tr data-grant="${grant.id}">
<td class="client">${name}${clientId}${scopes}</td>
<td>${info?.redirectHosts.join(', ') || '-'}</td>
${timeCell(grant.createdAt, now)}
${timeCell(grant.lastIssuedAt, now)}
${timeCell(grant.expiresAt, now)}
<td>${grant.sessionRef ? html`<code>${shortRef(grant.sessionRef)}</code>` : '-'}</td>
<td class="num">${grant.rotations}</td>
<td><a class="button danger" href="${base}/revoke?grant=${encodeURIComponent(grant.id)}">Revoke</a></td>
</tr>`;
}

function sessionRow(session: SessionSummary, base: string, now: number): SafeHtml {
  return html`<tr data-session="${session.ref}">
<td><code>${shortRef(session.ref)}</code></td>
${timeCell(session.createdAt, now)}
${timeCell(session.expiresAt, now)}
<td class="num">${session.grants}</td>
<td><a class="button danger" href="${base}/revoke?session=${encodeURIComponent(session.ref)}">Revoke</a></td>
</tr>`;
}

/** What a confirmation page asks about. */
export type RevokeTarget =
  | { kind: 'grant'; id: string; clientName: string }
  | { kind: 'session'; ref: string }
  | { kind: 'user' };

/** "Revoke ...?" with the form that does it. */
export function confirmPage(user: UserSummary, target: RevokeTarget, csrf: string): SafeHtml {
  const who = userLabel(user);
  const [question, field] =
    target.kind === 'grant'
      ? [
          html`Revoke the grant of <strong>${target.clientName}</strong> for <strong>${who}</strong>? Its access and refresh tokens are refused at once on every instance; the client has to sign in again.`,
          html`<input type="hidden" name="grant" value="${target.id}">`,
        ]
      : target.kind === 'session'
        ? [
            html`Revoke session <code>${shortRef(target.ref)}</code> of <strong>${who}</strong>?`,
            html`<input type="hidden" name="session" value="${target.ref}">`,
          ]
        : [
            html`Revoke <strong>every</strong> grant and session of <strong>${who}</strong>? Every client of this user has to sign in again.`,
            html`<input type="hidden" name="all" value="1">`,
          ];
  const base = userHref(user.userHash);
  return consolePage(
    'Confirm revocation',
    html`<h1>Confirm revocation</h1>
<p>${question}</p>
<form method="post" action="${base}/revoke">
${csrfInput(csrf)}
${field}
<div class="actions"><button type="submit" class="danger" id="confirm">Revoke</button><a class="button" href="${base}">Cancel</a></div>
</form>`,
    { section: 'users', csrf },
  );
}

/** The login, or at security level `maximum` (no login stored) a short label from the hash. */
export function userLabel(user: Pick<UserSummary, 'userHash' | 'userId'>): string {
  return user.userId ?? `user #${user.userHash.slice(0, 10)}`;
}

export function userHref(userHash: string): string {
  return `/console/users/${encodeURIComponent(userHash)}`;
}

function shortRef(ref: string): string {
  return ref.length > 12 ? `${ref.slice(0, 12)}...` : ref;
}
