/** The login form of `/authorize`: plain HTML, works without JavaScript. */
import { AUTHORIZE_PARAMS, type AuthorizationRequest } from '@oauth-cache/authorization-server';
import { escapeHtml, page } from './html.js';

/** What the login page shows. */
export interface LoginPageInput {
  request: AuthorizationRequest;
  /** The authorization request parameters, carried through the form as hidden inputs. */
  params: URLSearchParams;
  /** Login to prefill after a failed attempt. */
  username?: string;
  /** A message above the form (already user-facing text). */
  error?: string;
}

/** Render the login page. */
export function loginPage(input: LoginPageInput): string {
  const { request, params } = input;
  const clientName = request.client.client_name ?? 'An MCP application';
  const redirectHost = safeHost(request.redirectUri);
  const hidden = AUTHORIZE_PARAMS.flatMap((name) => {
    const value = params.get(name);
    return value === null || value === ''
      ? []
      : [`<input type="hidden" name="${name}" value="${escapeHtml(value)}">`];
  }).join('\n');
  const error = input.error ? `<div class="error" role="alert">${escapeHtml(input.error)}</div>` : '';
  return page(
    'Sign in with your 1C account',
    `<h1>Sign in with your 1C account</h1>
<p><strong>${escapeHtml(clientName)}</strong> asks to use 1C on your behalf.</p>
<p class="meta">After you sign in you return to <code>${escapeHtml(redirectHost)}</code>. Access: <code>${escapeHtml(request.scopes.join(' '))}</code>.</p>
${error}
<form method="post" action="/authorize" autocomplete="on">
${hidden}
<label for="username">1C login</label>
<input type="text" id="username" name="username" value="${escapeHtml(input.username ?? '')}" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="256" autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" maxlength="1024">
<div class="actions">
<button type="submit" class="primary" name="action" value="login">Sign in</button>
<button type="submit" class="secondary" name="action" value="deny" formnovalidate>Cancel</button>
</div>
</form>`,
  );
}

function safeHost(uri: string): string {
  try {
    return new URL(uri).host;
  } catch {
    return uri;
  }
}
