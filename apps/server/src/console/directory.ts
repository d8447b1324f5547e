/**
 * What the console reads and revokes through: core's `cache.directory` (a `GrantDirectory`), narrowed
 * to the calls the console makes. The summary types are core's own.
 */
import type { GrantDirectory as CoreGrantDirectory, TokenCache } from '@oauth-cache/core';

export type {
  GrantSummary,
  OperatorActor,
  SessionSummary,
  UserDetail,
  UserSummary,
  UsersPage,
} from '@oauth-cache/core';

/** The directory calls the console uses. */
export type GrantDirectory = Pick<
  CoreGrantDirectory,
  'listUsers' | 'userHashOf' | 'getUser' | 'revokeGrant' | 'revokeSession' | 'revokeUser'
>;

/** The cache's directory (`undefined` kept for the routes' 503 path, should a cache come without one). */
export function directoryOf(cache: Pick<TokenCache, 'directory'>): GrantDirectory | undefined {
  return cache.directory;
}
