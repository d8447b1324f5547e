import { createHmac } from 'node:crypto';

/**
 * Keyed digests (HMAC-SHA-256) of tokens and ids, used as store keys so a leaked store gives no
 * usable token (fosite keys storage by signature the same way). A plain hash would let anyone with
 * the store confirm a guessed token offline; the key makes that impossible without the secret.
 *
 * (Copying pre-hashed HMAC pad states per call was measured slower than `createHmac` on Node 20.)
 */
export class Digester {
  readonly #secret: Buffer;

  constructor(secret: Buffer) {
    this.#secret = secret;
  }

  /** base64url HMAC-SHA-256 of `value` (43 characters). */
  digest(value: string): string {
    return createHmac('sha256', this.#secret).update(value, 'utf8').digest('base64url');
  }
}
