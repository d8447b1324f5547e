/**
 * Checking a 1C login/password pair: the 1C HTTP service's `GET /health` behind Basic auth answers
 * 200 for a valid user, 401 for wrong credentials, 403 for a user without the right to the service.
 */

/** Outcome of {@link checkOneCCredentials}. */
export type OneCCredentialCheck = 'ok' | 'invalid' | 'forbidden' | 'unavailable';

/** Options of {@link checkOneCCredentials}. */
export interface OneCCheckOptions {
  /** Give up after this many ms and answer `unavailable`. Default 5000. */
  timeoutMs?: number;
  /** Called with a short, secret-free reason when 1C could not be asked (for logs). */
  onUnavailable?: (reason: string) => void;
}

/**
 * The HTTP Basic `Authorization` header value for a 1C user (RFC 7617 with UTF-8, which 1C expects
 * for Cyrillic logins). `undefined` when the pair cannot be expressed: a colon in the login or a
 * control character anywhere.
 */
export function basicAuthorization(login: string, password: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected
  if (login.includes(':') || /[\u0000-\u001f\u007f]/.test(login + password)) return undefined;
  return `Basic ${Buffer.from(`${login}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * Ask 1C whether `login`/`password` is a valid user of the HTTP service at `serviceUrl`
 * (`{MCP_ONEC_URL}/hs/{root}`). Never throws: network errors, timeouts, 5xx and unexpected statuses
 * are `unavailable`.
 */
export async function checkOneCCredentials(
  serviceUrl: string,
  login: string,
  password: string,
  options: OneCCheckOptions = {},
): Promise<OneCCredentialCheck> {
  const authorization = basicAuthorization(login, password);
  if (authorization === undefined || login.length === 0) return 'invalid';
  const url = `${serviceUrl.replace(/\/+$/, '')}/health`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'GET',
      headers: { authorization, accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    options.onUnavailable?.(name === 'TimeoutError' ? 'timeout' : `network error (${name})`);
    return 'unavailable';
  }
  // The body is not needed; release the connection.
  await response.body?.cancel().catch(() => {});
  if (response.status >= 200 && response.status < 300) return 'ok';
  if (response.status === 401) return 'invalid';
  if (response.status === 403) return 'forbidden';
  options.onUnavailable?.(`1C answered HTTP ${response.status}`);
  return 'unavailable';
}
