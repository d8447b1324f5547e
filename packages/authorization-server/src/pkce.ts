/** PKCE S256 (RFC 7636 §4.6), compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { PKCE_PATTERN } from './authorize-request.js';

/** The S256 challenge of a verifier: `BASE64URL(SHA256(ASCII(verifier)))`. */
export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** True when `verifier` is well-formed and its S256 challenge equals `challenge`. */
export function verifyPkceS256(verifier: string, challenge: string): boolean {
  if (!PKCE_PATTERN.test(verifier)) return false;
  const computed = Buffer.from(s256Challenge(verifier), 'utf8');
  const expected = Buffer.from(challenge, 'utf8');
  // Lengths are not secret (a real S256 challenge is always 43 characters).
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
