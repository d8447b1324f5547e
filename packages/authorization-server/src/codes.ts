/**
 * Authorization codes: 32 random bytes (base64url), single use through one store commit that
 * requires the code present, deletes it and writes its used marker.
 *
 * A code is a grant that has no token yet (`TokenCache.storePendingGrant`): at `/authorize` the
 * grant record is written with the user's 1C credentials sealed under a new grant key, and the
 * code's record (under the HMAC digest of the code) holds only that key wrapped under a key
 * derived from the code, plus the redirect URI and PKCE challenge. The token endpoint opens the
 * grant with the code and links the tokens to it: the store plus every server key opens neither.
 *
 * Replay (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3): when a code is redeemed, a `used` marker naming its
 * grant is kept. A second redemption finds the marker, flags it and revokes that grant. The first
 * redemption re-reads the marker after storing its tokens and revokes them itself when a replay
 * slipped in meanwhile.
 */
import { randomBytes } from 'node:crypto';
import type { PendingGrant, TokenCache } from '@oauth-cache/core';

/** What a code stands for. Never logged. */
export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  redirectUriExplicit: boolean;
  codeChallenge: string;
  scopes: string[];
  resource: string;
  /** The 1C login the user authenticated with (the token's userId). */
  login: string;
  /** The 1C password, needed later to call 1C on the user's behalf. Sealed at rest. */
  password: string;
}

/**
 * Outcome of {@link CodeStore.redeem}. `pending`: the grant to link the tokens to
 * (`storeToken`'s `pendingGrant`); absent for a code of the previous release, whose tokens start
 * a grant of their own under `familyId`.
 */
export type RedeemResult =
  | { kind: 'ok'; grant: CodeGrant; familyId: string; pending?: PendingGrant }
  | { kind: 'replayed' }
  | { kind: 'unknown' };

/** What a code keeps of its own beside its grant. */
interface CodeRequest {
  redirectUri: string;
  redirectUriExplicit: boolean;
  codeChallenge: string;
}

/** A code stored by the previous release: everything sealed under a key derived from the code. */
interface LegacyStoredCode {
  v: 1;
  exp: number;
  sealed: string;
}

interface UsedMarker {
  familyId: string;
  replayed: boolean;
}

const CODE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const LEGACY_AAD = 'oauth-cache:authorization-code';

/** Issues and redeems authorization codes. */
export class CodeStore {
  readonly #cache: TokenCache;
  readonly #ttlSeconds: number;
  readonly #usedTtlMs: number;

  /**
   * @param codeTtlSeconds lifetime of a code (MCP_OAUTH2_CODE_TTL, 120 s upstream).
   * @param usedMarkerTtlSeconds how long a redeemed code is remembered to detect replays.
   */
  constructor(cache: TokenCache, codeTtlSeconds: number, usedMarkerTtlSeconds: number) {
    this.#cache = cache;
    this.#ttlSeconds = codeTtlSeconds;
    this.#usedTtlMs = Math.max(usedMarkerTtlSeconds, codeTtlSeconds) * 1000;
  }

  /** Store a new code for `grant`; resolves the raw code (hand it only to the redirect). */
  async issue(grant: CodeGrant): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    const request: CodeRequest = {
      redirectUri: grant.redirectUri,
      redirectUriExplicit: grant.redirectUriExplicit,
      codeChallenge: grant.codeChallenge,
    };
    await this.#cache.storePendingGrant({
      code,
      key: codeKey(this.#cache.digest(code)),
      expiresIn: this.#ttlSeconds,
      userId: grant.login,
      clientId: grant.clientId,
      scopes: grant.scopes,
      resource: grant.resource,
      userData: { login: grant.login, password: grant.password },
      data: request,
    });
    return code;
  }

  /**
   * Consume a code. Exactly one caller gets `ok` for a given code; a later caller gets `replayed`
   * (and the grant issued by the first is revoked), or `unknown` for a code never issued / expired.
   */
  async redeem(code: string, now = Date.now()): Promise<RedeemResult> {
    if (!CODE_PATTERN.test(code)) return { kind: 'unknown' };
    const digest = this.#cache.digest(code);
    const key = codeKey(digest);
    const storeKey = this.#cache.key(key);
    const pending = await this.#cache.openPendingGrant(code, key);
    const legacy = pending === undefined ? await this.#cache.store.get(storeKey) : undefined;
    const familyId = pending?.familyId ?? randomBytes(16).toString('base64url');
    const marker: UsedMarker = { familyId, replayed: false };
    // The code goes and its used marker comes in one commit: of concurrent redeemers exactly one
    // gets it, and every other one finds the marker (a replay), never a gap between the two.
    const consumed =
      (pending !== undefined || isLegacyStoredCode(legacy)) &&
      (
        await this.#cache.store.commit({
          now: Date.now(),
          require: [{ if: 'present', key: storeKey }],
          ops: [
            { op: 'delete', keys: [storeKey] },
            { op: 'set', key: this.#usedKey(digest), value: marker, ttlMs: this.#usedTtlMs },
          ],
        })
      ).ok;
    if (!consumed) {
      const used = await this.#cache.store.get(this.#usedKey(digest));
      if (!isUsedMarker(used)) return { kind: 'unknown' };
      await this.#cache.store.set(this.#usedKey(digest), { ...used, replayed: true }, this.#usedTtlMs);
      await this.#cache.revokeFamily(used.familyId);
      return { kind: 'replayed' };
    }
    const grant = pending !== undefined ? codeGrantOf(pending) : this.#openLegacy(code, digest, legacy, now);
    if (grant === undefined) return { kind: 'unknown' };
    return pending !== undefined ? { kind: 'ok', grant, familyId, pending } : { kind: 'ok', grant, familyId };
  }

  /**
   * Call after the tokens of a redeemed code are stored. Resolves `false` (and revokes the family)
   * when the code was replayed in the meantime.
   */
  async confirmIssued(code: string, familyId: string): Promise<boolean> {
    const marker = await this.#cache.store.get(this.#usedKey(this.#cache.digest(code)));
    if (isUsedMarker(marker) && marker.familyId === familyId && !marker.replayed) return true;
    await this.#cache.revokeFamily(familyId);
    return false;
  }

  /** What a code of the previous release stands for, when it is still valid. */
  #openLegacy(code: string, digest: string, stored: unknown, now: number): CodeGrant | undefined {
    if (!isLegacyStoredCode(stored) || stored.exp <= now) return undefined;
    const aad = `${LEGACY_AAD}:${digest}`;
    try {
      // Older still: sealed with the server key.
      const grant = stored.sealed.startsWith('v1.')
        ? this.#cache.open(stored.sealed, aad)
        : this.#cache.openFor(code, stored.sealed, aad);
      return isCodeGrant(grant) ? grant : undefined;
    } catch {
      // Sealed with a key that is no longer configured, or tampered with: unusable.
      return undefined;
    }
  }

  #usedKey(digest: string): string {
    return this.#cache.key(`x:code-used:${digest}`);
  }
}

/** A code's record key, relative to the prefix. */
function codeKey(digest: string): string {
  return `x:code:${digest}`;
}

/** The {@link CodeGrant} a pending grant and its code's own data make. */
function codeGrantOf(pending: PendingGrant): CodeGrant | undefined {
  const request = pending.data as Partial<CodeRequest> | undefined;
  const credentials = pending.userData as { password?: unknown } | undefined;
  const grant = {
    clientId: pending.clientId,
    redirectUri: request?.redirectUri,
    redirectUriExplicit: request?.redirectUriExplicit === true,
    codeChallenge: request?.codeChallenge,
    scopes: pending.scopes,
    resource: pending.resource,
    login: pending.userId,
    password: credentials?.password,
  };
  return isCodeGrant(grant) ? grant : undefined;
}

function isLegacyStoredCode(value: unknown): value is LegacyStoredCode {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<LegacyStoredCode>;
  // A record of kind `code` is a pending grant's, not a legacy code.
  return !('kind' in v) && v.v === 1 && typeof v.exp === 'number' && typeof v.sealed === 'string';
}

function isUsedMarker(value: unknown): value is UsedMarker {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<UsedMarker>;
  return typeof v.familyId === 'string' && typeof v.replayed === 'boolean';
}

function isCodeGrant(value: unknown): value is CodeGrant {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<CodeGrant>;
  return (
    typeof v.clientId === 'string' &&
    typeof v.redirectUri === 'string' &&
    typeof v.codeChallenge === 'string' &&
    typeof v.login === 'string' &&
    typeof v.password === 'string' &&
    typeof v.resource === 'string' &&
    Array.isArray(v.scopes)
  );
}
