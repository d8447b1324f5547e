import {
  DEFAULT_MCP_SCOPES,
  LEGACY_CLIENT_ID,
  legacyClientIdsFromEnv,
  mcpResourceFromEnv,
  normalizeResource,
} from '@oauth-cache/authorization-server';
import { UsageError } from '../cli/errors.js';
import type { Env } from '../store/open-cache.js';

/**
 * What a migrated legacy token is bound to, so that the server accepts it unchanged: the audience
 * its `/mcp` checks, the scopes it requires, and the client id its holder sends on refresh.
 */
export interface LegacyBinding {
  /** RFC 8707 audience: `{MCP_PUBLIC_URL}/mcp`, normalized as the server does. */
  resource: string;
  scopes: string[];
  /** The Python server's one client id (`mcp-public-client`) unless overridden. */
  clientId: string;
}

/**
 * The binding from the options and the server's environment: `--resource` or the server's
 * `MCP_PUBLIC_URL` (else `MCP_HOST`/`MCP_PORT`), `--legacy-client-id` or the first of
 * `MCP_LEGACY_CLIENT_ID` (else `mcp-public-client`). A bad value is a usage error naming it.
 */
export function legacyBinding(
  options: { resource?: string | undefined; legacyClientId?: string | undefined },
  env: Env,
): LegacyBinding {
  let resource: string | undefined;
  if (options.resource !== undefined) {
    resource = normalizeResource(options.resource.trim());
    if (!resource) {
      throw new UsageError(
        '--resource: expected the absolute http(s) URL of the MCP endpoint, e.g. https://mcp.example.com/mcp',
      );
    }
  } else {
    try {
      resource = mcpResourceFromEnv(env);
    } catch {
      throw new UsageError(
        'MCP_PUBLIC_URL (or MCP_HOST/MCP_PORT): cannot derive the MCP resource; set MCP_PUBLIC_URL as for the server, or pass --resource',
      );
    }
  }
  const clientId = options.legacyClientId?.trim() || legacyClientIdsFromEnv(env)[0] || LEGACY_CLIENT_ID;
  return { resource, scopes: [...DEFAULT_MCP_SCOPES], clientId };
}
