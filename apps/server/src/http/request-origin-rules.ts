/**
 * Which `Host` and `Origin` request headers this server answers (DNS rebinding protection, MCP
 * transport spec: servers MUST validate `Origin`). A page on `evil.example` whose name an attacker
 * re-points at this server's address sends `Host: evil.example` and `Origin: http://evil.example`:
 * both must be refused before anything else looks at the request.
 *
 * Pure rules, no Koa: the environment schema parses the operator lists with them, the guard
 * middleware and the login form's cross-site check compare with them.
 */

/** One allowed `Host`: a host name or IP address, and a port or `undefined` for any port. */
export interface HostPattern {
  /** Canonical host name (lower case, IPv6 in brackets, no trailing dot). */
  hostname: string;
  port: number | undefined;
}

/** The answer to "may this request be served?": `undefined` when yes, else why not. */
export type Refusal = string | undefined;

/** Judges the `Host` and `Origin` headers of a request. */
export interface RequestOriginRules {
  /** Why the `Host` header (`undefined` when absent) is refused, or `undefined`. */
  hostRefusal(hostHeader: string | undefined): Refusal;
  /** Why the `Origin` header is refused, or `undefined`. An absent `Origin` is allowed. */
  originRefusal(originHeader: string | undefined): Refusal;
  /** True when `originHeader` is this server's own public origin (the login form's own page). */
  isPublicOrigin(originHeader: string): boolean;
}

/** What the rules allow. */
export interface RequestOriginRulesOptions {
  /** The public origin (`MCP_PUBLIC_URL`): its host and port, and the origin itself. */
  publicUrl: string;
  /** More hosts (`MCP_ALLOWED_HOSTS`). */
  allowedHosts?: readonly HostPattern[];
  /** More origins (`MCP_ALLOWED_ORIGINS`), normalized with {@link normalizeOrigin}. */
  allowedOrigins?: readonly string[];
  /**
   * The bound port when the server listens on a loopback address: `127.0.0.1`, `localhost` and
   * `[::1]` with that port are allowed too (what a local client types), as the MCP SDK's own
   * localhost protection does. Omit when listening on other addresses.
   */
  loopbackPort?: number;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };
/** Longest header value echoed back in a refusal. */
const MAX_ECHO = 100;

// A Host header is `host[:port]` (RFC 9110 §7.2): a registered name or IPv4 address, or an IPv6
// literal in brackets. Anything else (user info, paths, spaces) is not a host, whatever a lenient
// URL parser would make of it.
const HOST_HEADER = /^(?<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(?<port>\d{1,5}))?$/;

/**
 * Parse `host[:port]` into a canonical {@link HostPattern}, or `undefined` when it is not one
 * (empty, scheme, path, user info, port out of range, wildcard).
 */
export function parseHost(value: string): HostPattern | undefined {
  const match = HOST_HEADER.exec(value.trim());
  if (!match?.groups?.host) return undefined;
  const port = match.groups.port === undefined ? undefined : Number(match.groups.port);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  let hostname: string;
  try {
    // Canonical spelling: lower case, compressed IPv6, `[::0001]` -> `[::1]`.
    hostname = new URL(`http://${match.groups.host}`).hostname;
  } catch {
    return undefined;
  }
  hostname = hostname.replace(/\.$/, '');
  return hostname === '' ? undefined : { hostname, port };
}

/**
 * An operator's comma-separated host list (`MCP_ALLOWED_HOSTS`). Entries `host` (any port) or
 * `host:port`; empty entries are skipped. Throws an `Error` naming the first bad entry.
 */
export function parseHostList(raw: string | undefined): HostPattern[] {
  const hosts: HostPattern[] = [];
  for (const entry of splitList(raw)) {
    const host = parseHost(entry);
    if (!host) {
      throw new Error(
        `"${clip(entry)}" is not a host: expected a host name, IPv4 address or [IPv6] address with an optional :port (1-65535), e.g. mcp.internal or mcp.internal:8000; no scheme, path or wildcard`,
      );
    }
    hosts.push(host);
  }
  return hosts;
}

/**
 * The canonical form of an origin (`scheme://host[:port]`), or `undefined` when `value` is not one
 * (`null`, a path, a query, user info). http(s) origins are lower-cased with the default port
 * dropped (the browser's serialization); other schemes (`chrome-extension://id`,
 * `vscode-webview://id`) are lower-cased as written.
 */
export function normalizeOrigin(value: string): string | undefined {
  const text = value.trim().replace(/\/$/, '');
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@\s]+$/.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.host === '' || url.username !== '' || url.password !== '') return undefined;
  if (url.protocol in DEFAULT_PORTS) return url.origin;
  return `${url.protocol}//${url.host}`.toLowerCase();
}

// `moz-extension://*`: every origin of a non-web scheme. Firefox gives an extension another id on
// every install, so it cannot be listed by id (the MCP SDK's origin check allows the same form).
const SCHEME_WILDCARD = /^([a-z][a-z0-9+.-]*):\/\/\*$/;

/**
 * An operator's comma-separated origin list (`MCP_ALLOWED_ORIGINS`), normalized. Entries are
 * origins, or `<scheme>://*` for every origin of a scheme other than http(s) (browser extensions).
 * Throws an `Error` naming the first bad entry; `*`, `null`, `http://*` and `https://*` are refused
 * (they would allow every page).
 */
export function parseOriginList(raw: string | undefined): string[] {
  const origins: string[] = [];
  for (const entry of splitList(raw)) {
    const wildcard = SCHEME_WILDCARD.exec(entry.toLowerCase());
    if (wildcard && wildcard[1] !== 'http' && wildcard[1] !== 'https') {
      origins.push(entry.toLowerCase());
      continue;
    }
    if (entry === '*' || entry.toLowerCase() === 'null' || wildcard) {
      throw new Error(
        `"${entry}" is not accepted: list the origins of the pages you trust one by one (only non-web schemes such as moz-extension://* take a wildcard)`,
      );
    }
    const origin = normalizeOrigin(entry);
    if (!origin) {
      throw new Error(
        `"${clip(entry)}" is not an origin: expected scheme://host[:port] without a path, e.g. https://app.example.com or http://localhost:6274`,
      );
    }
    origins.push(origin);
  }
  return origins;
}

/** True for an address in 127.0.0.0/8, `::1` or an IPv4-mapped loopback address. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === '::1' || bare === 'localhost') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Build the rules for one running server. */
export function requestOriginRules(options: RequestOriginRulesOptions): RequestOriginRules {
  const publicUrl = new URL(options.publicUrl);
  const defaultPort = DEFAULT_PORTS[publicUrl.protocol] ?? 80;
  const publicHost: HostPattern = {
    hostname: publicUrl.hostname.replace(/\.$/, ''),
    port: publicUrl.port === '' ? defaultPort : Number(publicUrl.port),
  };
  const loopbackPort = options.loopbackPort;
  const listed = options.allowedHosts ?? [];
  const publicOrigin = publicUrl.origin;
  const origins = new Set([publicOrigin, ...(options.allowedOrigins ?? [])]);

  return {
    hostRefusal(hostHeader) {
      if (hostHeader === undefined || hostHeader.trim() === '') return 'Missing Host header';
      const host = parseHost(hostHeader);
      if (!host) return `Invalid Host header: ${clip(hostHeader)}`;
      // Without a port the client used the scheme's default: the public one for the public host,
      // 80 for the loopback names (the server itself speaks http), either default for listed hosts.
      const allowed =
        (host.hostname === publicHost.hostname && (host.port ?? defaultPort) === publicHost.port) ||
        (loopbackPort !== undefined &&
          LOOPBACK_NAMES.includes(host.hostname) &&
          (host.port ?? 80) === loopbackPort) ||
        listed.some(
          (p) =>
            p.hostname === host.hostname &&
            (p.port === undefined ||
              p.port === host.port ||
              (host.port === undefined && (p.port === 80 || p.port === 443))),
        );
      return allowed ? undefined : `Invalid Host header: ${clip(hostHeader)}`;
    },
    originRefusal(originHeader) {
      if (originHeader === undefined || originHeader === '') return undefined;
      const origin = normalizeOrigin(originHeader);
      const allowed =
        origin !== undefined &&
        (origins.has(origin) || origins.has(`${origin.slice(0, origin.indexOf('://'))}://*`));
      return allowed ? undefined : `Invalid Origin header: ${clip(originHeader)}`;
    },
    isPublicOrigin(originHeader) {
      return normalizeOrigin(originHeader) === publicOrigin;
    },
  };
}

function splitList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

function clip(value: string): string {
  return value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}...` : value;
}
