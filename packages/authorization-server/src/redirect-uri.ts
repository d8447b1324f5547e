/**
 * Redirect URI rules (MCP authorization spec 2025-06-18, OAuth 2.1 §2.3, RFC 8252 §7.3):
 * registered URIs are `https` URLs, or `http` URLs on a loopback host for native clients. Matching is
 * exact string comparison, except that the port of a loopback URI may differ (native apps bind an
 * ephemeral port at run time).
 */

/** Longest redirect URI accepted at registration. */
export const MAX_REDIRECT_URI_LENGTH = 2000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why a redirect URI was refused at registration, or `undefined` when it is acceptable. */
export function redirectUriProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return 'each redirect URI must be a non-empty string';
  if (value.length > MAX_REDIRECT_URI_LENGTH) {
    return `a redirect URI is longer than ${MAX_REDIRECT_URI_LENGTH} characters`;
  }
  if (WHITESPACE_OR_CONTROL.test(value)) return 'a redirect URI contains whitespace or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'a redirect URI is not an absolute URL';
  }
  if (value.includes('#')) return 'a redirect URI must not contain a fragment';
  // Only the spelling a browser would use: 'http://0x7f000001/cb', 'https:evil.example/cb' or an
  // upper-case host would otherwise be stored verbatim and shown to users as something else.
  if (url.href !== value) {
    return `a redirect URI must be in canonical form (write it as ${url.href.slice(0, 200)})`;
  }
  if (url.username || url.password) return 'a redirect URI must not contain user information';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return undefined;
    return 'http redirect URIs are accepted only on loopback hosts (127.0.0.1, [::1], localhost); use https';
  }
  return 'a redirect URI must use https, or http on a loopback host';
}

/** True for the loopback host names RFC 8252 §7.3 covers (plus `localhost`, common among MCP clients). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}

/**
 * The registered URI that `requested` matches, or `undefined`. Exact string match; for an `http`
 * loopback URI the port is ignored and everything else (host spelling, path, query) must be equal.
 */
export function matchRedirectUri(registered: readonly string[], requested: string): string | undefined {
  if (registered.includes(requested)) return requested;
  const req = parseLoopback(requested);
  if (!req) return undefined;
  for (const candidate of registered) {
    const reg = parseLoopback(candidate);
    if (reg && reg.host === req.host && reg.rest === req.rest) return candidate;
  }
  return undefined;
}

/** Split an http loopback URI into host and "everything after the port", compared verbatim. */
function parseLoopback(value: string): { host: string; rest: string } | undefined {
  // Parsed by hand (not `new URL`) so that the comparison stays on the exact characters sent.
  const match = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?([/?][^#]*)?$/i.exec(value);
  if (!match) return undefined;
  const port = match[2];
  if (port !== undefined && Number(port) > 65535) return undefined;
  return { host: (match[1] ?? '').toLowerCase(), rest: match[3] ?? '/' };
}
