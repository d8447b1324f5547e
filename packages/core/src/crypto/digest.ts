import * as crypto from 'node:crypto';
import { MAX_TOKEN_LENGTH } from '../limits.js';

const BLOCK = 64;
/** UTF-8 needs at most 3 bytes per UTF-16 code unit. */
const MAX_INPUT_BYTES = MAX_TOKEN_LENGTH * 3;

type OneShotHash = (algorithm: string, data: Buffer, encoding: 'latin1' | 'base64url') => string;
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

/**
 * Keyed digests (HMAC-SHA-256) of tokens and ids, used as store keys so a leaked store gives no
 * usable token (fosite keys storage by signature the same way). A plain hash would let anyone with
 * the store confirm a guessed token offline; the key makes that impossible without the secret.
 *
 * This is the digest of every validation, so it is computed as RFC 2104 spells it,
 * `H(K^opad || H(K^ipad || m))`, over preallocated buffers with Node's one-shot `crypto.hash`
 * (Node >= 20.12): about 1 µs instead of 1.8 µs for a `createHmac` object per call. The inner
 * digest travels as a 32-character latin1 string written straight into the outer buffer: one byte
 * per character, so the bytes are exact, and no Buffer is allocated for it. The output is
 * byte-identical to `createHmac('sha256', secret)` (a property test checks it).
 */
export class Digester {
  readonly #secret: Buffer;
  readonly #inner = Buffer.alloc(BLOCK + MAX_INPUT_BYTES);
  readonly #outer = Buffer.alloc(BLOCK + 32);

  constructor(secret: Buffer) {
    this.#secret = secret;
    const key = Buffer.alloc(BLOCK);
    (secret.length > BLOCK ? crypto.createHash('sha256').update(secret).digest() : secret).copy(key);
    for (let i = 0; i < BLOCK; i++) {
      this.#inner[i] = key[i]! ^ 0x36;
      this.#outer[i] = key[i]! ^ 0x5c;
    }
  }

  /** base64url HMAC-SHA-256 of `value` (43 characters). */
  digest(value: string): string {
    if (!oneShot || value.length > MAX_TOKEN_LENGTH) {
      return crypto.createHmac('sha256', this.#secret).update(value, 'utf8').digest('base64url');
    }
    const n = this.#inner.write(value, BLOCK, 'utf8');
    this.#outer.write(oneShot('sha256', this.#inner.subarray(0, BLOCK + n), 'latin1'), BLOCK, 'latin1');
    return oneShot('sha256', this.#outer, 'base64url');
  }
}
