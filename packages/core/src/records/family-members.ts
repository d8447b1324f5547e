import type { CacheContext } from '../context.js';
import { impliedFamilyMember, Keys } from './keys.js';

/** A family's token members: what its index holds, and the one a legacy family's id names. */
export interface FamilyMembers {
  members: string[];
  /** The member named by the family id and not stored in its index ({@link impliedFamilyMember}), last in `members`. */
  implied: string | undefined;
}

/**
 * The live members of a family's tokens index plus the token a legacy family's id implies. Callers
 * take the implied one only when its record's own family is `familyId` (the id is a name, not a
 * proof of membership).
 */
export async function readFamilyMembers(
  ctx: CacheContext,
  familyId: string,
  now: number,
): Promise<FamilyMembers> {
  const members = (await ctx.store.indexRange(ctx.key(Keys.familyTokens(familyId)), now)).map(
    (e) => e.member,
  );
  const named = impliedFamilyMember(familyId);
  const implied = named !== undefined && !members.includes(named) ? named : undefined;
  if (implied !== undefined) members.push(implied);
  return { members, implied };
}
