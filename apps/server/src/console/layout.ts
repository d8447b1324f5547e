/**
 * The console's page shell and formatting. Built on the login page's `page()` and the `html`
 * tagged template: no template engine, every interpolated value is escaped by `html`.
 */
import { html, page, type SafeHtml, unsafeRaw } from '../views/html.js';

/** Console styles on top of the login page's: wide layout, navigation, tables, charts. */
const CONSOLE_STYLE = unsafeRaw(`
main{max-width:72rem;margin:2rem auto}
nav.console{display:flex;gap:1rem;align-items:center;border-bottom:1px solid #e3e6eb;padding-bottom:.8rem;margin-bottom:1.2rem}
nav.console a{color:#1f5fd1;text-decoration:none;font-weight:600}
nav.console a.active{color:#1d2330;border-bottom:2px solid #1f5fd1}
nav.console form{margin-left:auto}
nav.console button,form.inline button,a.button{flex:none;padding:.35rem .8rem;font-size:.9rem;border-radius:6px;border:0;cursor:pointer;text-decoration:none;display:inline-block}
a.button{background:#e3e6eb;color:#1d2330}
button.danger,a.button.danger{background:#c62828;color:#fff}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.2rem;font-size:.92rem}
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid #eceef2;vertical-align:top}
th{color:#5b6475;font-weight:600;font-size:.82rem;text-transform:uppercase;letter-spacing:.02em}
td.num,th.num{text-align:right}
form.inline{display:inline;margin:0}
form.search{display:flex;gap:.5rem;align-items:end;margin:.4rem 0 1rem}
form.search label{margin:0 0 .3rem}
form.search input[type=text]{width:18rem}
form.search button{flex:none;padding:.55rem 1rem}
.notice{background:#e7f5ea;color:#1b5e20;border-radius:6px;padding:.7rem;margin:1rem 0}
.pager{display:flex;gap:1rem;margin:.5rem 0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(21rem,1fr));gap:1rem}
.chart{border:1px solid #eceef2;border-radius:8px;padding:.6rem}
.chart h2{font-size:.95rem;margin:0 0 .3rem}
.chart svg{width:100%;height:auto}
fieldset{border:1px solid #e3e6eb;border-radius:6px;margin:0 0 1rem}
fieldset label{display:inline-block;margin:.2rem .8rem .2rem 0;font-weight:400}
h2{font-size:1.1rem;margin:1.4rem 0 .3rem}
.actions{align-items:center}
.actions button,.actions a.button{flex:none;padding:.55rem 1.2rem;font-size:.95rem}
`);

/** Where the operator is, for the navigation bar. */
export type ConsoleSection = 'users' | 'events' | 'stats';

/** A console page: navigation (with a sign-out form when signed in with a cookie) and `body`. */
export function consolePage(
  title: string,
  body: SafeHtml,
  nav?: { section?: ConsoleSection; csrf?: string },
): SafeHtml {
  const link = (section: ConsoleSection, href: string, label: string) =>
    html`<a href="${href}"${nav?.section === section ? html` class="active"` : ''}>${label}</a>`;
  const signOut = nav?.csrf
    ? html`<form method="post" action="/console/logout" class="inline">${csrfInput(nav.csrf)}<button type="submit" class="secondary">Sign out</button></form>`
    : '';
  const bar = nav
    ? html`<nav class="console"><strong>oauth-cache console</strong>${link('users', '/console', 'Users')}${link('events', '/console/events', 'Events')}${link('stats', '/console/stats', 'Stats')}${signOut}</nav>`
    : '';
  return page(`${title} - oauth-cache console`, html`${bar}\n${body}`, CONSOLE_STYLE);
}

/** The hidden CSRF field every console form carries. */
export function csrfInput(token: string): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${token}">`;
}

/** An error page: what went wrong and a way back. */
export function consoleErrorPage(title: string, message: string, signedIn: boolean): SafeHtml {
  return consolePage(
    title,
    html`<h1>${title}</h1>
<div class="error" role="alert">${message}</div>
<p><a href="${signedIn ? '/console' : '/console/login'}">Back to the console</a></p>`,
    signedIn ? {} : undefined,
  );
}

/** `2026-12-07 12:34:56 UTC`; `-` when unknown. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `in 59 min`, `3 h ago`: how far `ms` is from `now`. */
export function formatRelative(ms: number | undefined, now: number): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  const diff = ms - now;
  const abs = Math.abs(diff);
  const text =
    abs < 60_000
      ? `${Math.round(abs / 1000)} s`
      : abs < 3_600_000
        ? `${Math.round(abs / 60_000)} min`
        : abs < 172_800_000
          ? `${Math.round(abs / 3_600_000)} h`
          : `${Math.round(abs / 86_400_000)} d`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** A time cell: absolute time with the relative one. */
export function timeCell(ms: number | undefined, now: number): SafeHtml {
  if (ms === undefined) return html`<td>-</td>`;
  return html`<td><span title="${formatTime(ms)}">${formatTime(ms)}</span><br><span class="meta">${formatRelative(ms, now)}</span></td>`;
}
