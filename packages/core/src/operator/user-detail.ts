import { readFamilyMembers } from '../records/family-members.js';
import { Keys, recordKeyOfMember } from '../records/keys.js';
import { type DirectoryContext, readableUserId, readRecords } from './context.js';
import { summarizeGrant } from './grant-summary.js';
import type { GrantSummary, SessionSummary, UserDetail } from './types.js';

/**
 * One user's grants and sessions, or `null` when they hold nothing live. Three rounds of store
 * calls: the user's grants and sessions indexes; each grant's tokens index (in parallel); one
 * batch read of every token and session record, decoded without a token.
 */
export async function getUser(dc: DirectoryContext, userHash: string): Promise<UserDetail | null> {
  const { ctx } = dc;
  const now = ctx.now();
  const [grantEntries, sessionEntries] = await Promise.all([
    ctx.store.indexRange(ctx.key(Keys.userGrants(userHash)), now),
    ctx.store.indexRange(ctx.key(Keys.userSessions(userHash)), now),
  ]);
  if (grantEntries.length === 0 && sessionEntries.length === 0) return null;
  const families = await Promise.all(
    grantEntries.map(async (g) => (await readFamilyMembers(ctx, g.member, now)).members),
  );
  const tokenKeys = families.map((members) => members.map((m) => ctx.key(recordKeyOfMember(m))));
  const sessionKeys = sessionEntries.map((e) => ctx.key(Keys.session(e.member)));
  const records = await readRecords(dc, [...tokenKeys.flat(), ...sessionKeys]);

  let userId: string | undefined;
  let at = 0;
  const grants: GrantSummary[] = [];
  grantEntries.forEach((entry, i) => {
    const own = records.slice(at, at + tokenKeys[i]!.length).filter((record) => {
      // A family index holds one user's tokens; a record naming another user or grant (a legacy
      // family's implied token) is not shown here.
      if (record === undefined) return true;
      const uh = dc.tokens.userHashOf(record);
      return (
        (uh === undefined || uh === userHash) &&
        (record.body.fam === undefined || record.body.fam === entry.member)
      );
    });
    at += tokenKeys[i]!.length;
    for (const record of own) userId ??= readableUserId(record, now);
    const grant = summarizeGrant(entry.member, own, now, (sid) => ctx.digester.digest(sid));
    if (grant) grants.push(grant);
  });
  const sessions: SessionSummary[] = [];
  let expiresAt = 0;
  sessionEntries.forEach((entry, i) => {
    const record = records[at + i];
    if (record === undefined || record.kind !== 'session' || record.exp <= now) return;
    userId ??= readableUserId(record, now);
    const session: SessionSummary = {
      ref: entry.member,
      expiresAt: record.exp,
      grants: grants.filter((g) => g.sessionRef === entry.member).length,
    };
    if (typeof record.body.iat === 'number') session.createdAt = record.body.iat;
    sessions.push(session);
    expiresAt = Math.max(expiresAt, record.body.abs ?? record.exp);
  });
  if (grants.length === 0 && sessions.length === 0) return null;
  for (const g of grants) expiresAt = Math.max(expiresAt, g.expiresAt);
  grants.sort((a, b) => (b.lastIssuedAt ?? 0) - (a.lastIssuedAt ?? 0) || b.expiresAt - a.expiresAt);
  sessions.sort((a, b) => b.expiresAt - a.expiresAt);
  const user = { userHash, grants: grants.length, sessions: sessions.length, expiresAt };
  return { user: userId === undefined ? user : { ...user, userId }, grants, sessions };
}
