import { createHash, timingSafeEqual } from 'node:crypto';
import type { EmulatorUser } from './users.js';

/** Result of checking a request's Basic credentials, the way a 1C HTTP service answers. */
export type BasicAuthOutcome =
  | { kind: 'ok'; user: EmulatorUser }
  /** No, malformed or wrong credentials: 401 with `WWW-Authenticate: Basic`. */
  | { kind: 'unauthorized' }
  /** Right password, but no right to the HTTP service: 403. */
  | { kind: 'forbidden'; user: EmulatorUser };

/** Decode `Authorization: Basic <base64(login:password)>` as UTF-8 (RFC 7617 `charset="UTF-8"`). */
export function parseBasicAuth(header: string | undefined): { login: string; password: string } | undefined {
  if (!header) return undefined;
  const match = /^Basic +([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { login: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Check credentials against the user list; passwords are compared in constant time. */
export function authenticate(users: readonly EmulatorUser[], header: string | undefined): BasicAuthOutcome {
  const credentials = parseBasicAuth(header);
  if (!credentials) return { kind: 'unauthorized' };
  const user = users.find((candidate) => candidate.login === credentials.login);
  // Compare against something even for unknown logins so timing does not reveal which logins exist.
  const matches = sameSecret(credentials.password, user?.password ?? '\u0000no-such-user');
  if (!user || !matches) return { kind: 'unauthorized' };
  return user.access === false ? { kind: 'forbidden', user } : { kind: 'ok', user };
}

function sameSecret(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(digestA, digestB);
}
