/**
 * The login form of `/authorize`: plain HTML, works without JavaScript.
 *
 * It names who is asking by what cannot be faked: the origin the code is sent to is the headline,
 * its registrable domain in bold. The client's name is whatever the client registered, so it is
 * marked "self-declared" unless the operator listed the redirect host.
 */
import {
  AUTHORIZE_PARAMS,
  type AuthorizationRequest,
  FORM_TOKEN_FIELD,
  type RedirectTarget,
} from '@oauth-cache/authorization-server';
import { html, joinHtml, page, type SafeHtml } from './html.js';

/** What the login page shows. */
export interface LoginPageInput {
  request: AuthorizationRequest;
  /** The authorization request parameters, carried through the form as hidden inputs. */
  params: URLSearchParams;
  /** Signed token binding the POST to this page (see `FormTokens`). */
  formToken: string;
  /** Login to prefill after a failed attempt. */
  username?: string;
  /** A message above the form (already user-facing text). */
  error?: string;
}

/** Render the login page. */
export function loginPage(input: LoginPageInput): SafeHtml {
  const { request, params } = input;
  const target = request.redirectTarget;
  const hidden = AUTHORIZE_PARAMS.flatMap((name) => {
    const value = params.get(name);
    return value === null || value === ''
      ? []
      : [html`<input type="hidden" name="${name}" value="${value}">`];
  });
  hidden.push(html`<input type="hidden" name="${FORM_TOKEN_FIELD}" value="${input.formToken}">`);
  const error = input.error ? html`<div class="error" role="alert">${input.error}</div>` : '';
  return page(
    'Sign in with your 1C account',
    html`<p class="lead">Sign in with your 1C account to give access to</p>
<h1 class="origin" id="redirect-origin">${originMarkup(target)}</h1>
${clientLine(request, target)}
${warnings(target)}
<p class="meta">Access: <code>${request.scopes.join(' ')}</code>. Sign in only if you started this yourself.</p>
${error}
<form method="post" action="/authorize" autocomplete="on">
${joinHtml(hidden, html`\n`)}
<label for="username">1C login</label>
<input type="text" id="username" name="username" value="${input.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="256" autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" maxlength="1024">
<div class="actions">
<button type="submit" class="primary" name="action" value="login">Sign in</button>
<button type="submit" class="secondary" name="action" value="deny" formnovalidate>Cancel</button>
</div>
</form>`,
  );
}

/** `https://login.<strong>evil.example</strong>:8443`: the registrable domain stands out. */
function originMarkup(target: RedirectTarget): SafeHtml {
  const domain = target.registrableDomain;
  const scheme = target.origin.slice(0, target.origin.indexOf('//') + 2);
  const rest = target.origin.slice(scheme.length);
  const at = domain ? rest.lastIndexOf(domain, target.host.length) : -1;
  if (!domain || at < 0 || at + domain.length !== target.host.length) {
    return html`${scheme}<strong>${rest}</strong>`;
  }
  return html`${scheme + rest.slice(0, at)}<strong>${domain}</strong>${rest.slice(at + domain.length)}`;
}

function clientLine(request: AuthorizationRequest, target: RedirectTarget): SafeHtml {
  // Cf characters are refused at registration; stripped here too for records stored before that.
  const name = request.client.client_name?.replace(/\p{Cf}/gu, '');
  if (!name) return html`<p>The application did not give a name.</p>`;
  const tag = target.listed
    ? html`<span class="tag">listed by this server</span>`
    : html`<span class="tag" id="self-declared">self-declared name</span>`;
  return html`<p>The application calls itself <strong>${name}</strong> ${tag}</p>`;
}

function warnings(target: RedirectTarget): SafeHtml {
  return joinHtml(
    target.warnings.map((warning) => {
      if (warning === 'loopback') {
        return html`<div class="warning" role="note" id="warning-loopback"><strong>This app runs on your own computer.</strong> After you sign in, the access goes to a program listening on ${target.origin}. Continue only if you just started that program yourself.</div>`;
      }
      const who = target.registrableDomain ?? target.host;
      return html`<div class="warning" role="alert" id="warning-unlisted"><strong>Warning: the operator of this server has not listed ${who}.</strong> After you sign in, ${who} can use 1C as you. Continue only if you trust ${who} and you opened this page from it yourself.</div>`;
    }),
    html`\n`,
  );
}
