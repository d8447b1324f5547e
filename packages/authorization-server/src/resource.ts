/**
 * RFC 8707 resource indicators: the MCP server's canonical URI is the only audience this
 * authorization server issues tokens for.
 */

/**
 * Normalize a resource URI for comparison: lower-case scheme and host, default port dropped, one
 * trailing slash of the path ignored. `undefined` for anything that is not an absolute http(s) URI
 * without a fragment (RFC 8707 §2).
 */
export function normalizeResource(value: string): string | undefined {
  if (value.includes('#')) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password) return undefined;
  const path =
    url.pathname.length > 1 && url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  return `${url.protocol}//${url.host}${path === '/' ? '' : path}${url.search}`;
}

/** True when `requested` names the same resource as `canonical`. */
export function sameResource(requested: string, canonical: string): boolean {
  const a = normalizeResource(requested);
  return a !== undefined && a === normalizeResource(canonical);
}
