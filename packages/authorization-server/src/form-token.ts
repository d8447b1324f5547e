/**
 * The login form's token: an HMAC over the validated authorization request and an expiry, put in a
 * hidden field by the page and checked before the password is. It binds the POST to a page this
 * server rendered for exactly these parameters, and stops replays of an old form once it expires.
 * It is not single use (a wrong password re-renders the page with a fresh token anyway).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TokenCache } from '@oauth-cache/core';
import type { AuthorizationRequest } from './authorize-request.js';

/** Name of the hidden form field carrying the token. */
export const FORM_TOKEN_FIELD = 'form_token';

/** Default lifetime of a login form: 10 minutes. */
export const DEFAULT_FORM_TOKEN_TTL_MS = 10 * 60 * 1000;

/** Outcome of {@link FormTokens.verify}. */
export type FormTokenCheck = 'ok' | 'missing' | 'invalid' | 'expired';

const TOKEN_PATTERN = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/;

/** Issues and verifies login form tokens. */
export class FormTokens {
  readonly #key: Buffer;
  readonly #ttlMs: number;

  constructor(cache: TokenCache, ttlMs = DEFAULT_FORM_TOKEN_TTL_MS) {
    // A key of its own, derived from the server secret: a form token's MAC can never be mistaken
    // for any other digest the cache computes.
    this.#key = Buffer.from(cache.digest('form-token-key:v1'), 'base64url');
    this.#ttlMs = ttlMs;
  }

  /** A token for `request`, valid until `now + ttl`. */
  issue(request: AuthorizationRequest, now = Date.now()): string {
    const expiresAt = now + this.#ttlMs;
    return `${expiresAt}.${this.#mac(request, expiresAt).toString('base64url')}`;
  }

  /** Check `token` (the submitted field, if any) against `request`. */
  verify(request: AuthorizationRequest, token: string | undefined, now = Date.now()): FormTokenCheck {
    if (token === undefined || token === '') return 'missing';
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return 'invalid';
    const expiresAt = Number(match[1]);
    // Compared as text: base64url decoding ignores the spare bits of the last character, so another
    // spelling of the same bytes must not pass (a tampered last character did, now and then).
    const given = Buffer.from(match[2] as string, 'utf8');
    const expected = Buffer.from(this.#mac(request, expiresAt).toString('base64url'), 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    // Checked after the MAC so that a forged expiry reads as invalid, not expired.
    return now >= expiresAt ? 'expired' : 'ok';
  }

  #mac(request: AuthorizationRequest, expiresAt: number): Buffer {
    const bound = JSON.stringify([
      'login-form',
      expiresAt,
      request.clientId,
      request.redirectUri,
      request.codeChallenge,
      request.state ?? null,
      request.resource,
      request.scopes,
    ]);
    return createHmac('sha256', this.#key).update(bound).digest();
  }
}
