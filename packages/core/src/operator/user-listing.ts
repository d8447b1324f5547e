import { Keys, recordKeyOfMember } from '../records/keys.js';
import { type DirectoryContext, readableUserId, readRecords } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { ListUsersOptions, UserSummary, UsersPage } from './types.js';

/** Users per page unless asked otherwise, and the most a page holds. */
export const DEFAULT_USERS_PAGE = 50;
export const MAX_USERS_PAGE = 200;

/**
 * One page of the users index (`ix:users`, score: the latest expiry of what the user holds), most
 * recently active first. Three rounds of store calls whatever the page size: the page and the
 * total; per user, in parallel, the grant and session counts and the first member of the indexes
 * that can name the user; then one batch read of those records.
 */
export async function listUsers(dc: DirectoryContext, options: ListUsersOptions = {}): Promise<UsersPage> {
  const { ctx } = dc;
  const limit = pageLimit(options.limit);
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  const now = ctx.now();
  const usersKey = ctx.key(Keys.users);
  const [entries, total] = await Promise.all([
    ctx.store.indexPage(usersKey, now, after ? { limit: limit + 1, after } : { limit: limit + 1 }),
    ctx.store.indexCount(usersKey, now),
  ]);
  const page = entries.slice(0, limit);
  // At `maximum` a token record without its token does not name its user: only sessions can.
  const tokensName = ctx.config.securityLevel !== 'maximum';
  const perUser = await Promise.all(
    page.map(async ({ member: uh }) => {
      const [grants, sessions, firstSession, firstToken] = await Promise.all([
        ctx.store.indexCount(ctx.key(Keys.userGrants(uh)), now),
        ctx.store.indexCount(ctx.key(Keys.userSessions(uh)), now),
        ctx.store.indexPage(ctx.key(Keys.userSessions(uh)), now, { limit: 1 }),
        tokensName ? ctx.store.indexPage(ctx.key(Keys.userTokens(uh)), now, { limit: 1 }) : [],
      ]);
      const keys: string[] = [];
      if (firstToken[0]) keys.push(ctx.key(recordKeyOfMember(firstToken[0].member)));
      if (firstSession[0]) keys.push(ctx.key(Keys.session(firstSession[0].member)));
      return { grants, sessions, keys };
    }),
  );
  const records = await readRecords(
    dc,
    perUser.flatMap((u) => u.keys),
  );
  let at = 0;
  const users = page.map((entry, i): UserSummary => {
    const { grants, sessions, keys } = perUser[i]!;
    let userId: string | undefined;
    for (let k = 0; k < keys.length; k++) userId ??= readableUserId(records[at + k], now);
    at += keys.length;
    const user: UserSummary = { userHash: entry.member, grants, sessions, expiresAt: entry.score };
    if (userId !== undefined) user.userId = userId;
    return user;
  });
  const last = page.at(-1);
  return entries.length > limit && last ? { users, total, next: encodeCursor(last) } : { users, total };
}

/** The page size asked for: a whole number >= 1, at most {@link MAX_USERS_PAGE}. */
function pageLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_USERS_PAGE;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new TypeError('limit must be a whole number >= 1');
  }
  return Math.min(limit, MAX_USERS_PAGE);
}
