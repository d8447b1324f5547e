/**
 * Authorization codes: 32 random bytes (base64url), stored under the HMAC digest of the code with
 * everything else sealed (AES-256-GCM, including the user's 1C credentials) under a key derived from
 * the code itself (`TokenCache.sealFor`), single use through one store commit that requires the code
 * present, deletes it and writes its used marker.
 *
 * Replay (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3): when a code is redeemed, a `used` marker naming the
 * token family it produced is kept. A second redemption finds the marker, flags it and revokes that
 * family. The first redemption re-reads the marker after storing its tokens and revokes them itself
 * when a replay slipped in meanwhile.
 */
import { randomBytes } from 'node:crypto';
import type { TokenCache } from '@oauth-cache/core';

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

/** Outcome of {@link CodeStore.redeem}. */
export type RedeemResult =
  | { kind: 'ok'; grant: CodeGrant; familyId: string }
  | { kind: 'replayed' }
  | { kind: 'unknown' };

interface StoredCode {
  v: 1;
  exp: number;
  sealed: string;
}

interface UsedMarker {
  familyId: string;
  replayed: boolean;
}

const CODE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const AAD = 'oauth-cache:authorization-code';

/** Issues and redeems authorization codes. */
export class CodeStore {
  readonly #cache: TokenCache;
  readonly #ttlMs: number;
  readonly #usedTtlMs: number;

  /**
   * @param codeTtlSeconds lifetime of a code (MCP_OAUTH2_CODE_TTL, 120 s upstream).
   * @param usedMarkerTtlSeconds how long a redeemed code is remembered to detect replays.
   */
  constructor(cache: TokenCache, codeTtlSeconds: number, usedMarkerTtlSeconds: number) {
    this.#cache = cache;
    this.#ttlMs = codeTtlSeconds * 1000;
    this.#usedTtlMs = Math.max(usedMarkerTtlSeconds, codeTtlSeconds) * 1000;
  }

  /** Store a new code for `grant`; resolves the raw code (hand it only to the redirect). */
  async issue(grant: CodeGrant, now = Date.now()): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    const digest = this.#cache.digest(code);
    const record: StoredCode = {
      v: 1,
      exp: now + this.#ttlMs,
      // Sealed for the code's holder: the store plus the server's keys do not open the password.
      sealed: this.#cache.sealFor(code, grant, `${AAD}:${digest}`),
    };
    await this.#cache.store.set(this.#codeKey(digest), record, this.#ttlMs);
    return code;
  }

  /**
   * Consume a code. Exactly one caller gets `ok` for a given code; a later caller gets `replayed`
   * (and the family issued by the first is revoked), or `unknown` for a code never issued / expired.
   */
  async redeem(code: string, now = Date.now()): Promise<RedeemResult> {
    if (!CODE_PATTERN.test(code)) return { kind: 'unknown' };
    const digest = this.#cache.digest(code);
    const codeKey = this.#codeKey(digest);
    const taken = await this.#cache.store.get(codeKey);
    const familyId = randomBytes(16).toString('base64url');
    const marker: UsedMarker = { familyId, replayed: false };
    // The code goes and its used marker comes in one commit: of concurrent redeemers exactly one
    // gets it, and every other one finds the marker (a replay), never a gap between the two.
    const consumed =
      isStoredCode(taken) &&
      (
        await this.#cache.store.commit({
          now: Date.now(),
          require: [{ if: 'present', key: codeKey }],
          ops: [
            { op: 'delete', keys: [codeKey] },
            { op: 'set', key: this.#usedKey(digest), value: marker, ttlMs: this.#usedTtlMs },
          ],
        })
      ).ok;
    if (!consumed || !isStoredCode(taken)) {
      const used = await this.#cache.store.get(this.#usedKey(digest));
      if (!isUsedMarker(used)) return { kind: 'unknown' };
      await this.#cache.store.set(this.#usedKey(digest), { ...used, replayed: true }, this.#usedTtlMs);
      await this.#cache.revokeFamily(used.familyId);
      return { kind: 'replayed' };
    }
    if (taken.exp <= now) return { kind: 'unknown' };
    let grant: unknown;
    try {
      // A code of the previous release (sealed with the server key) still redeems.
      grant = taken.sealed.startsWith('v1.')
        ? this.#cache.open(taken.sealed, `${AAD}:${digest}`)
        : this.#cache.openFor(code, taken.sealed, `${AAD}:${digest}`);
    } catch {
      // Sealed with a key that is no longer configured, or tampered with: unusable.
      return { kind: 'unknown' };
    }
    if (!isCodeGrant(grant)) return { kind: 'unknown' };
    return { kind: 'ok', grant, familyId };
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

  #codeKey(digest: string): string {
    return this.#cache.key(`x:code:${digest}`);
  }

  #usedKey(digest: string): string {
    return this.#cache.key(`x:code-used:${digest}`);
  }
}

function isStoredCode(value: unknown): value is StoredCode {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<StoredCode>;
  return v.v === 1 && typeof v.exp === 'number' && typeof v.sealed === 'string';
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
