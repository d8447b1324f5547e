/** Longest `Authorization` header value accepted; longer is a malformed request (400), not a token to look up. */
export const MAX_AUTHORIZATION_LENGTH = 4096;

/** RFC 6750 section 2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The common, well-formed case in one pass: scheme `Bearer` (any case), ONE space, a b64token,
 * nothing around it. The token then starts at index 7. Anything else takes the detailed parse,
 * which gives the same answer for this case (tested) and a precise description for the others.
 */
const CANONICAL = /^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9\-._~+/]+=*$/;

/** What an `Authorization` header says about a bearer token, before any store lookup. */
export type ParsedBearerHeader =
  | { kind: 'token'; token: string }
  /** No `Authorization` header at all. */
  | { kind: 'missing' }
  /** Present but not `Bearer <b64token>`; `description` is safe to send (it never echoes the header). */
  | { kind: 'malformed'; description: string };

/**
 * Parse an `Authorization` header value as RFC 6750 bearer credentials: the scheme is matched
 * case-insensitively, exactly one b64token must follow. Several header values (an array) are malformed.
 */
export function parseBearerHeader(value: string | readonly string[] | undefined): ParsedBearerHeader {
  if (value === undefined) return { kind: 'missing' };
  if (typeof value !== 'string') {
    return value.length === 1 && typeof value[0] === 'string'
      ? parseBearerHeader(value[0])
      : { kind: 'malformed', description: 'Multiple Authorization headers' };
  }
  if (value.length <= MAX_AUTHORIZATION_LENGTH && CANONICAL.test(value)) {
    return { kind: 'token', token: value.slice(7) };
  }
  return parseDetailed(value);
}

/** {@link parseBearerHeader} of one value, every rule spelled out (exported for tests). */
export function parseDetailed(value: string): ParsedBearerHeader {
  if (value.length > MAX_AUTHORIZATION_LENGTH) {
    return {
      kind: 'malformed',
      description: `Authorization header longer than ${MAX_AUTHORIZATION_LENGTH} characters`,
    };
  }
  const header = value.trim();
  if (header === '') return { kind: 'malformed', description: 'Empty Authorization header' };
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') {
    return { kind: 'malformed', description: 'Unsupported authorization scheme: use Bearer' };
  }
  const credentials = space === -1 ? '' : header.slice(space + 1).replace(/^ +/, '');
  if (credentials === '') return { kind: 'malformed', description: 'Bearer token missing after the scheme' };
  if (/\s/.test(credentials))
    return { kind: 'malformed', description: 'More than one token in the Authorization header' };
  if (!B64TOKEN.test(credentials)) {
    return {
      kind: 'malformed',
      description: 'Bearer token contains characters outside the RFC 6750 token syntax',
    };
  }
  return { kind: 'token', token: credentials };
}
