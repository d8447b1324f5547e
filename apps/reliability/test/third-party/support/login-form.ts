/**
 * What a user does with an authorization URL a tool printed or a client produced: open the login
 * page and submit its form with the 1C login and password (the page's signed `form_token` included).
 * Resolves the redirect the server answered with (the client's callback URL, carrying the code).
 */
import { header, httpRequest, postForm } from '../../../src/http.js';

/** Log in as `username` at `authorizationUrl`; resolves the `Location` of the 302. */
export async function loginAt(
  authorizationUrl: string | URL,
  username = 'demo',
  password = 'demo',
): Promise<URL> {
  const url = new URL(authorizationUrl);
  const page = await httpRequest(url.href, { timeoutMs: 30_000 });
  const formToken = /name="form_token" value="([^"]*)"/.exec(page.body)?.[1];
  if (page.status !== 200 || formToken === undefined) {
    throw new Error(`login page ${url.pathname} answered ${page.status}: ${page.body.slice(0, 300)}`);
  }
  const form = new URLSearchParams(url.searchParams);
  form.set('form_token', formToken);
  form.set('username', username);
  form.set('password', password);
  form.set('action', 'login');
  const answer = await postForm(`${url.origin}${url.pathname}`, form, { timeoutMs: 30_000 });
  const location = header(answer, 'location');
  if (answer.status !== 302 || location === undefined) {
    throw new Error(`login form post answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  }
  return new URL(location);
}
