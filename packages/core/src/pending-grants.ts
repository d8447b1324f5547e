import type { CacheContext } from './context.js';
import { InvalidInputError } from './errors.js';
import { assertScopes, assertToken, assertUserId, isPlausibleToken, seconds } from './limits.js';
import { PendingGrant } from './pending-grant.js';
import { type DecodedRecord, grantBody } from './records/codec.js';
import { Keys } from './records/keys.js';
import { randomToken } from './token-service.js';
import type { PendingGrantInput } from './types.js';

/** Where a caller keeps its own records (`store/contract.ts`): a code's key must be there. */
const CALLER_NAMESPACE = 'x:';

/**
 * Grants the user authorised before any token exists: an authorization code's. At `/authorize`
 * the grant record is written with the user's 1C credentials sealed under a new grant key, and
 * the code's record holds only its kind, expiry, the grant id, that key wrapped under a key
 * derived from the code, and the code's own data (redirect URI, PKCE challenge), as a token
 * record does. The token endpoint opens the grant with the code and links the tokens to it: the
 * store plus every server key opens neither the code's grant nor the tokens' (issue 17's at-rest
 * property), and no step re-seals the credentials.
 */
export class PendingGrants {
  readonly #ctx: CacheContext;
  readonly #read: (key: string, token: string) => Promise<DecodedRecord | undefined>;

  /** `read`: one record with its grant, decoded with its token (`TokenService.readRecord`). */
  constructor(ctx: CacheContext, read: (key: string, token: string) => Promise<DecodedRecord | undefined>) {
    this.#ctx = ctx;
    this.#read = read;
  }

  /** See `TokenCache.storePendingGrant`. One commit: the grant record and the code's. */
  async store(input: PendingGrantInput): Promise<string> {
    const ctx = this.#ctx;
    assertToken(input.code, 'code');
    assertUserId(input.userId);
    assertScopes(input.scopes);
    const key = ctx.key(holderKey(input.key));
    // Required: a code's lifetime is the caller's (no default fits every authorization server).
    const ttlMs = seconds(input.expiresIn ?? Number.NaN, 0, 'expiresIn') * 1000;
    const now = ctx.now();
    const exp = now + ttlMs;
    const familyId = randomToken();
    const grantKey = ctx.codec.newGrantKey();
    const body = grantBody(input, familyId, ctx.userHash(input.userId), now);
    const own = input.data === undefined ? {} : { data: input.data };
    await ctx.store.commit({
      now,
      ops: [
        {
          op: 'set',
          key: ctx.key(Keys.grant(familyId)),
          value: ctx.codec.encodeGrant(familyId, exp, body, grantKey),
          ttlMs,
        },
        {
          op: 'set',
          key,
          value: ctx.codec.encodeLinked(key, 'code', exp, { id: familyId, key: grantKey }, own, input.code),
          ttlMs,
        },
      ],
    });
    return familyId;
  }

  /** See `TokenCache.openPendingGrant`. One store read (the code's record with its grant). */
  async open(code: string, key: string): Promise<PendingGrant | undefined> {
    if (!isPlausibleToken(code)) return undefined;
    const record = await this.#read(this.#ctx.key(holderKey(key)), code);
    if (record === undefined || record.kind !== 'code' || record.exp <= this.#ctx.now()) return undefined;
    const grant = record.grant;
    // Without the key (the code did not unwrap it) the grant cannot be joined: not this code's.
    if (grant === undefined || (grant.key === undefined && this.#ctx.config.securityLevel !== 'basic'))
      return undefined;
    return PendingGrant.fromDecoded({ ...record, grant });
  }
}

/** A code record's key (relative to the prefix), which must be in the caller's namespace. */
function holderKey(key: unknown): string {
  if (
    typeof key !== 'string' ||
    !key.startsWith(CALLER_NAMESPACE) ||
    key.length === CALLER_NAMESPACE.length
  ) {
    throw new InvalidInputError(`key must name a record under '${CALLER_NAMESPACE}' (the caller's records)`);
  }
  return key;
}
