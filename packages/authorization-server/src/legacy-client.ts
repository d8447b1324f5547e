/**
 * The one client id of the Python 1C MCP server. Its `/register` stored nothing and answered every
 * client with `mcp-public-client`, so every client of that server refreshes with it. Families
 * migrated from it (`oauth-cache migrate`) are bound to that id; the token endpoint accepts it for
 * the `refresh_token` grant only, so migrated users keep their sessions while the id can never
 * start an authorization (no redirect URIs: nothing to phish with) or be registered.
 */
import type { ClientRecord } from './clients.js';

/** The client id the Python server handed to every client. */
export const LEGACY_CLIENT_ID = 'mcp-public-client';

/**
 * The legacy client ids to accept from `MCP_LEGACY_CLIENT_ID` (comma-separated; empty = none);
 * unset: {@link LEGACY_CLIENT_ID}. The CLI binds migrated families to the first one.
 */
export function legacyClientIdsFromEnv(env: Record<string, string | undefined>): string[] {
  const raw = env.MCP_LEGACY_CLIENT_ID;
  if (raw === undefined) return [LEGACY_CLIENT_ID];
  return [
    ...new Set(
      raw
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    ),
  ];
}

/**
 * The record the token and revocation endpoints use for a legacy client id: public, refresh only,
 * no redirect URI. Never stored and never returned by the registry (so `/authorize` refuses it).
 */
export function legacyClientRecord(clientId: string): ClientRecord {
  return {
    client_id: clientId,
    client_id_issued_at: 0,
    redirect_uris: [],
    grant_types: ['refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}
