import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '@oauth-cache/core';

/** A parsed `OAUTH_CACHE_STORE` URL. */
export type StoreUrl =
  | { scheme: 'memory'; max?: number }
  | { scheme: 'sqlite' /** Absolute file path, or `:memory:`. */; path: string }
  | {
      scheme: 'redis' /** The URL as given (node-redis parses user, password, host, port, db, TLS). */;
      url: string;
    };

const SECRET_QUERY_PARAMS = /([?&](?:password|pass|pwd|token|secret|key|auth)=)[^&#]*/gi;

/**
 * The URL with its password (and any secret-looking query parameter) replaced by `***`, for error
 * messages and logs. Works on strings that are not valid URLs too.
 *
 * @example maskUrl('redis://app:s3cret@cache:6379/2') // 'redis://app:***@cache:6379/2'
 */
export function maskUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@?#]*?):([^/?#]*)@/i, (_m, scheme: string, user: string) => {
      return `${scheme}${user}:***@`;
    })
    .replace(SECRET_QUERY_PARAMS, '$1***');
}

function invalid(url: string, problem: string): ConfigError {
  return new ConfigError([`OAUTH_CACHE_STORE: ${problem} (got "${maskUrl(url)}")`]);
}

function parseMemory(url: string): StoreUrl {
  const query = url.slice('memory://'.length).replace(/^\/*/, '');
  if (query === '') return { scheme: 'memory' };
  if (!query.startsWith('?')) throw invalid(url, 'memory:// takes no host or path, only ?max=N');
  const params = new URLSearchParams(query.slice(1));
  for (const name of params.keys()) {
    if (name !== 'max') throw invalid(url, `unknown memory:// parameter "${name}" (supported: max)`);
  }
  const raw = params.get('max');
  if (raw === null) return { scheme: 'memory' };
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw invalid(url, 'memory:// max must be a whole number >= 1');
  }
  return { scheme: 'memory', max: Number(raw) };
}

function parseSqlite(url: string, cwd: string): StoreUrl {
  // Not parsed with `new URL`: in `sqlite://data/cache.db` a URL parser would take "data" for a host.
  const rest = url.slice('sqlite://'.length);
  const raw = rest.split(/[?#]/, 1)[0] ?? '';
  if (rest.length !== raw.length) throw invalid(url, 'sqlite:// takes no query string');
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw invalid(url, 'sqlite:// path is not valid percent-encoding');
  }
  if (path === '' || path === '/') {
    throw invalid(
      url,
      'sqlite:// needs a file path, e.g. sqlite:///var/lib/oc/cache.db or sqlite://./cache.db',
    );
  }
  if (path === ':memory:') return { scheme: 'sqlite', path };
  if (path.endsWith('/')) throw invalid(url, 'sqlite:// path names a directory, not a file');
  if (path.includes('\0')) throw invalid(url, 'sqlite:// path contains a NUL byte');
  return { scheme: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) };
}

function parseRedis(url: string): StoreUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(url, 'not a valid redis URL, expected redis://[user:password@]host:port[/db]');
  }
  if (parsed.hostname === '') throw invalid(url, 'redis URL needs a host');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw invalid(url, 'redis URL database must be a number, e.g. /0');
  if (parsed.port !== '' && (Number(parsed.port) < 1 || Number(parsed.port) > 65535)) {
    throw invalid(url, 'redis URL port out of range');
  }
  return { scheme: 'redis', url };
}

/**
 * Parse a store URL: `memory://?max=N`, `sqlite://<path>` (relative to `cwd` or absolute:
 * `sqlite:///abs/file.db`, `sqlite://./rel/file.db`), `redis://[user:pass@]host:port[/db]`, `rediss://...`.
 * Throws {@link ConfigError} naming the (masked) URL when it cannot be used.
 */
export function parseStoreUrl(url: string, cwd = process.cwd()): StoreUrl {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new ConfigError([
      'OAUTH_CACHE_STORE: empty; expected memory://, sqlite://<path> or redis://host:port',
    ]);
  }
  const trimmed = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'memory':
      return parseMemory(trimmed);
    case 'sqlite':
      return parseSqlite(trimmed, cwd);
    case 'redis':
    case 'rediss':
      return parseRedis(trimmed);
    default:
      throw invalid(
        trimmed,
        `unknown store scheme${scheme ? ` "${scheme}://"` : ''}; expected memory://, sqlite://<path>, redis:// or rediss://`,
      );
  }
}
