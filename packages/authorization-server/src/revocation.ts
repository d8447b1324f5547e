/**
 * Token revocation (RFC 7009). Unknown, expired or already revoked tokens are answered like a
 * success (§2.2), so the endpoint tells nothing about which tokens exist.
 */
import type { TokenCache } from '@oauth-cache/core';
import type { ClientRegistry } from './clients.js';
import { OAuthError } from './errors.js';
import { legacyClientRecord } from './legacy-client.js';
import { readParams } from './params.js';

/** What revocation needs. */
export interface RevocationContext {
  cache: TokenCache;
  clients: ClientRegistry;
  /** Client ids of migrated families (see `legacy-client.ts`): they may revoke their own tokens. */
  legacyClientIds: ReadonlySet<string>;
}

/**
 * Revoke the token in the form parameters. Resolves on success (the endpoint answers 200 with an
 * empty body); throws {@link OAuthError} for a malformed request, a missing `client_id` (every
 * client here is public) or an unknown one.
 * A refresh token takes its whole family with it; an access token only itself.
 */
export async function handleRevocationRequest(
  params: URLSearchParams,
  ctx: RevocationContext,
): Promise<void> {
  const { values, duplicated, malformed } = readParams(params, ['token', 'token_type_hint', 'client_id']);
  if (duplicated.length > 0) {
    throw new OAuthError('invalid_request', `parameters sent more than once: ${duplicated.join(', ')}`);
  }
  if (values.token === undefined) throw new OAuthError('invalid_request', 'token is missing');
  // Every client of this server is public (no secret to authenticate with): RFC 7009 §2.1 then
  // requires its client_id, so the server can check it revokes only that client's own tokens.
  if (values.client_id === undefined) {
    throw new OAuthError('invalid_request', 'client_id is missing: a public client must identify itself');
  }
  if (malformed.includes('token')) return; // cannot be one of ours: nothing to revoke
  if (malformed.length > 0)
    throw new OAuthError('invalid_request', `malformed parameters: ${malformed.join(', ')}`);
  const token = values.token;
  const client = ctx.legacyClientIds.has(values.client_id)
    ? legacyClientRecord(values.client_id)
    : await ctx.clients.get(values.client_id);
  if (!client) throw new OAuthError('invalid_client', 'unknown client_id');
  // §2.1: a client may revoke only its own tokens. Someone else's token is left alone, silently.
  const owner =
    (await ctx.cache.validateAccessToken(token))?.clientId ??
    (await ctx.cache.inspectRefreshToken(token))?.clientId;
  if (owner !== undefined && owner !== client.client_id) return;
  await ctx.cache.revokeToken(token);
}
