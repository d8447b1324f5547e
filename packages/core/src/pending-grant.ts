import type { DecodedRecord, GrantRef } from './records/codec.js';

/**
 * The grant references core handed out, by the object it handed out: the grant's key stays in
 * core, and an object built elsewhere (or copied) joins nothing.
 */
const handedOut = new WeakMap<PendingGrant, GrantRef>();

/**
 * A grant that has no token yet, opened with its authorization code
 * (`TokenCache.openPendingGrant`): what the user authorised. `TokenCache.storeToken` with
 * `pendingGrant` links the new tokens to it, so the grant (and its 1C credentials) is sealed once,
 * at `/authorize`, and the token endpoint never sees it re-sealed. Never log it: `userData` holds
 * the credentials.
 */
export class PendingGrant {
  /** The grant (family) id: the tokens' `familyId`. */
  readonly familyId: string;
  readonly userId: string;
  readonly clientId: string | undefined;
  readonly scopes: string[];
  readonly resource: string | undefined;
  readonly sessionId: string | undefined;
  /** What `storePendingGrant` was given as `userData` (sealed at rest under the grant's key). */
  readonly userData: unknown;
  /** What the code keeps of its own (`storePendingGrant`'s `data`). */
  readonly data: unknown;
  /** When the code expires (epoch ms). */
  readonly expiresAt: number;

  private constructor(record: DecodedRecord, familyId: string) {
    const b = record.body;
    this.familyId = familyId;
    this.userId = b.uid ?? '';
    this.clientId = b.cid;
    this.scopes = b.scp ?? [];
    this.resource = b.res;
    this.sessionId = b.sid;
    this.userData = b.ud;
    this.data = b.data;
    this.expiresAt = record.exp;
  }

  /** @internal A pending grant from a code record decoded with its code (and so with its key). */
  static fromDecoded(record: DecodedRecord & { grant: GrantRef }): PendingGrant {
    const grant = new PendingGrant(record, record.grant.id);
    handedOut.set(grant, record.grant);
    return grant;
  }
}

/** @internal The grant `pending` stands for, if core handed it out. */
export function grantRefOf(pending: PendingGrant): GrantRef | undefined {
  return handedOut.get(pending);
}
