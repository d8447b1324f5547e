/**
 * The console's credentials: the status token (OAUTH_CACHE_STATUS_TOKEN) pasted once on the sign-in
 * page, then a short-lived signed session cookie, and the CSRF token bound to that session.
 *
 * Stateless on purpose: the cookie is `id.expiry.mac`, MAC'd with a key derived from the server's
 * digest secret and the status token. Every instance sharing the secrets accepts it (no sticky
 * sessions, no store writes), the token itself never travels in a cookie, and rotating the status
 * token ends every console session at once.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Name of the console session cookie (no `__Host-` prefix: that requires `Path=/`). */
export const SESSION_COOKIE = 'oc_console';
/** Console session lifetime: an hour, then the operator pastes the token again. */
export const SESSION_TTL_MS = 3_600_000;

/** A verified console session. */
export interface ConsoleSession {
  id: string;
  expiresAt: number;
}

const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;

/** Status token check, session cookies and CSRF tokens of one server. */
export class ConsoleCredentials {
  readonly #tokenDigest: Buffer;
  readonly #key: Buffer;

  /**
   * @param statusToken the configured status token
   * @param derive the server's keyed digest (`cache.digest`): the MAC key is derived from the
   *   server's secret, so it is never stored and equal on every instance
   */
  constructor(statusToken: string, derive: (label: string) => string) {
    this.#tokenDigest = sha256(statusToken);
    this.#key = createHmac('sha256', derive('oauth-cache console session key v1'))
      .update(statusToken, 'utf8')
      .digest();
  }

  /** Constant time: both sides are hashed to equal-length digests first, so length does not leak. */
  tokenMatches(candidate: string): boolean {
    return timingSafeEqual(sha256(candidate), this.#tokenDigest);
  }

  /** A new session and its cookie value. */
  issueSession(now = Date.now()): { session: ConsoleSession; value: string } {
    const id = randomBytes(16).toString('base64url');
    const expiresAt = now + SESSION_TTL_MS;
    return {
      session: { id, expiresAt },
      value: `${id}.${expiresAt}.${this.#mac(`session:${id}.${expiresAt}`)}`,
    };
  }

  /** The session a cookie value names, when its MAC is right and it has not expired. */
  verifySession(value: string | undefined, now = Date.now()): ConsoleSession | undefined {
    if (!value) return undefined;
    const [id, expiry, mac, ...rest] = value.split('.');
    if (rest.length > 0 || !id || !expiry || !mac || !SESSION_ID.test(id) || !MAC.test(mac)) return undefined;
    if (!/^\d{13}$/.test(expiry)) return undefined;
    if (!equal(mac, this.#mac(`session:${id}.${expiry}`))) return undefined;
    const expiresAt = Number(expiry);
    // A cookie claiming a longer life than we ever issue was not issued by us.
    if (expiresAt <= now || expiresAt > now + SESSION_TTL_MS) return undefined;
    return { id, expiresAt };
  }

  /** The CSRF token of a session: an HMAC of its id, so nothing has to be stored. */
  csrfToken(sessionId: string): string {
    return this.#mac(`csrf:${sessionId}`);
  }

  /** Constant-time check of a posted CSRF token. */
  csrfMatches(sessionId: string, candidate: string | undefined): boolean {
    return candidate !== undefined && MAC.test(candidate) && equal(candidate, this.csrfToken(sessionId));
  }

  #mac(data: string): string {
    return createHmac('sha256', this.#key).update(data, 'utf8').digest('base64url');
  }
}

/** `Set-Cookie` for the session: HttpOnly, SameSite=Strict, Path=/console, Secure on https. */
export function sessionCookie(value: string, secure: boolean, maxAgeMs = SESSION_TTL_MS): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/console',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** `Set-Cookie` that removes the session cookie (sign-out). */
export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', secure, 0);
}

/** The session cookie's value from a `Cookie` header (the first one: browsers send the most specific path first). */
export function readSessionCookie(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === SESSION_COOKIE) return part.slice(at + 1).trim();
  }
  return undefined;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
