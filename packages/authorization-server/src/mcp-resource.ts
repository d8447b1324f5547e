/**
 * Where the gateway's public URL and its MCP resource (the RFC 8707 audience of every token) come
 * from. The server and the migration CLI both use these, so a migrated token carries exactly the
 * audience the server checks.
 */
import { normalizeResource } from './resource.js';

/** The scopes of the MCP gateway: every token for `/mcp` carries them (`scopesSupported` default). */
export const DEFAULT_MCP_SCOPES: readonly string[] = ['mcp'];

/** `http://{host}:{port}` (IPv6 hosts bracketed): the public URL when `MCP_PUBLIC_URL` is unset. */
export function defaultPublicUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The canonical MCP resource of a gateway served at `publicUrl`: `{publicUrl}/mcp`, normalized
 * (lower-case scheme and host, no default port). Throws `TypeError` for a URL that is not http(s).
 */
export function mcpResourceOf(publicUrl: string): string {
  const resource = normalizeResource(`${publicUrl.replace(/\/+$/, '')}/mcp`);
  if (!resource) throw new TypeError('the public URL must be an absolute http(s) URL without credentials');
  return resource;
}

/**
 * The MCP resource from the server's environment: `MCP_PUBLIC_URL`, else `MCP_HOST` (127.0.0.1)
 * and `MCP_PORT` (8000), as the server derives it. Throws `TypeError` when they make no URL.
 */
export function mcpResourceFromEnv(env: Record<string, string | undefined>): string {
  const publicUrl = env.MCP_PUBLIC_URL?.trim();
  if (publicUrl) return mcpResourceOf(publicUrl);
  const port = Number(env.MCP_PORT?.trim() || 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError('MCP_PORT is not a port');
  return mcpResourceOf(defaultPublicUrl(env.MCP_HOST?.trim() || '127.0.0.1', port));
}
