/**
 * Who is asking: what the login page must tell the user about the place their authorization code
 * is sent to, and the operator's policy on unlisted redirect hosts.
 *
 * Anyone can register a client under any name ("Claude Desktop") with their own redirect URI, so
 * the client name proves nothing. The redirect target's origin is what decides who receives the
 * code; the page headlines it, emphasises its registrable domain and warns when the operator has
 * not listed the host. With `mode: 'enforce'` such clients are refused before any login form.
 */
import { getDomain } from 'tldts';
import { isLoopbackHost } from './redirect-uri.js';

/** The operator's redirect host policy (MCP_REDIRECT_POLICY, MCP_ALLOWED_REDIRECT_HOSTS). */
export interface RedirectPolicy {
  /**
   * `warn` (default): unlisted hosts get a visible warning on the login page. `enforce`: a client
   * whose non-loopback redirect host is not listed is refused before any login form.
   */
  mode: 'warn' | 'enforce';
  /** Host names the operator vouches for (exact, case-insensitive; no wildcards). */
  allowedHosts: readonly string[];
}

/** Why the login page must warn the user. */
export type RedirectWarning =
  /** The code goes to a program on the user's own computer (RFC 8252 loopback redirect). */
  | 'loopback'
  /** The operator has not listed the redirect host. */
  | 'unlisted_host';

/** What the login page shows about the redirect target. */
export interface RedirectTarget {
  /** `scheme://host[:port]` of the redirect URI: the headline of the page. */
  origin: string;
  /** Host name (lower case; IPv6 in brackets). */
  host: string;
  /**
   * The registrable domain ("eTLD+1", e.g. `evil.example` for `login.evil.example`, private
   * suffixes such as `github.io` included), or `undefined` for IP addresses and single-label hosts.
   */
  registrableDomain: string | undefined;
  /** A loopback redirect (127.0.0.1, [::1], localhost): the client runs on the user's computer. */
  loopback: boolean;
  /** The operator listed the host (so the client's name is not only self-declared). */
  listed: boolean;
  /** Warnings to show, most important first. */
  warnings: RedirectWarning[];
}

/** The default policy: warn, nothing listed. */
export const DEFAULT_REDIRECT_POLICY: RedirectPolicy = { mode: 'warn', allowedHosts: [] };

/** Describe `redirectUri` (a validated, absolute http(s) URI) under `policy`. */
export function describeRedirectTarget(redirectUri: string, policy: RedirectPolicy): RedirectTarget {
  const url = new URL(redirectUri);
  const host = url.hostname.toLowerCase();
  const loopback = isLoopbackHost(host);
  const listed = policy.allowedHosts.some((allowed) => allowed.toLowerCase() === host);
  const warnings: RedirectWarning[] = [];
  if (loopback) warnings.push('loopback');
  else if (!listed) warnings.push('unlisted_host');
  return {
    origin: url.origin,
    host,
    registrableDomain: loopback
      ? undefined
      : (getDomain(host, { allowPrivateDomains: true, validateHostname: true }) ?? undefined),
    loopback,
    listed,
    warnings,
  };
}

/** True when `target` must be refused before any login form under `policy`. */
export function refusedByPolicy(target: RedirectTarget, policy: RedirectPolicy): boolean {
  return policy.mode === 'enforce' && !target.loopback && !target.listed;
}

/**
 * Parse a comma-separated host list (MCP_ALLOWED_REDIRECT_HOSTS). Throws `TypeError` naming the
 * first entry that is not a plain host name.
 */
export function parseAllowedHosts(value: string | undefined): string[] {
  if (value === undefined) return [];
  const hosts = value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const h of hosts) {
    if (
      !/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(
        h,
      )
    ) {
      throw new TypeError(
        `"${h.slice(0, 60)}" is not a host name (expected e.g. claude.ai, no scheme or port)`,
      );
    }
  }
  return [...new Set(hosts)];
}
