/**
 * Who an MCP request runs as, carried to the per-request MCP server in the SDK's `AuthInfo`
 * (`createMcpHandler` and the stateless transport pass it through untouched, to the server
 * factory and to handlers as `ctx.http.authInfo`). It stays in this process: the 1C credentials
 * in `extra` are only ever sent to 1C.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { TokenValidation } from '@oauth-cache/core';
import type { OneCCredentials } from './onec-rpc.js';

/** The signed-in user a forwarded call runs as. */
export interface Principal {
  userId: string;
  /** Grant to revoke when 1C rejects the credentials. */
  familyId: string;
  credentials: OneCCredentials;
}

/** The SDK's view of a validated token, with the principal in `extra`. */
export function toAuthInfo(
  token: string,
  validation: TokenValidation,
  credentials: OneCCredentials,
): AuthInfo {
  return {
    token,
    clientId: validation.clientId ?? '',
    scopes: [...validation.scopes],
    expiresAt: Math.floor(validation.expiresAt / 1000),
    ...(validation.resource && URL.canParse(validation.resource)
      ? { resource: new URL(validation.resource) }
      : {}),
    extra: {
      userId: validation.userId,
      familyId: validation.familyId,
      login: credentials.login,
      password: credentials.password,
    },
  };
}

/** The principal {@link toAuthInfo} put in `authInfo`, or `undefined` when it holds none. */
export function principalOf(authInfo: AuthInfo | undefined): Principal | undefined {
  const extra = authInfo?.extra;
  if (!extra) return undefined;
  const { userId, familyId } = extra;
  const credentials = credentialsOf(extra);
  if (typeof userId !== 'string' || typeof familyId !== 'string' || !credentials) return undefined;
  return { userId, familyId, credentials };
}

/** `{ login, password }` of a token's `userData`, if it holds them. */
export function credentialsOf(userData: unknown): OneCCredentials | undefined {
  if (typeof userData !== 'object' || userData === null) return undefined;
  const { login, password } = userData as Partial<OneCCredentials>;
  return typeof login === 'string' && typeof password === 'string' ? { login, password } : undefined;
}
