import { createCipheriv, createDecipheriv } from 'node:crypto';
import { SealError } from '../errors.js';

/** Bytes of an AES-GCM IV (96 bits) and of its authentication tag. */
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

/** AES-256-GCM of `value` as JSON, `aad` bound: ciphertext followed by the tag. */
export function gcmSeal(key: Buffer, iv: Buffer, value: unknown, aad: string): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const plaintext = Buffer.from(JSON.stringify(value ?? null), 'utf8');
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** The JSON value {@link gcmSeal} sealed. Throws when the tag does not verify (wrong key, tampering). */
export function gcmOpen(key: Buffer, iv: Buffer, body: Buffer, aad: string): unknown {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  const plaintext = Buffer.concat([
    decipher.update(body.subarray(0, body.length - TAG_BYTES)),
    decipher.final(),
  ]);
  return JSON.parse(plaintext.toString('utf8'));
}

/**
 * The IV and body of a `<version>.<iv b64url>.<ciphertext||tag b64url>` value (grant keys, token
 * sealing), checked for shape only: whether it opens is {@link gcmOpen}'s to say. Throws `SealError`
 * `unrecognised <what>` for anything else (not a string, another version, other parts) and `sealed
 * value is truncated` when the IV or the tag cannot be whole, so a damaged value never reaches the
 * cipher.
 */
export function parseSealed(version: string, sealed: unknown, what: string): { iv: Buffer; body: Buffer } {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts.length !== 3 || parts[0] !== version) throw new SealError(`unrecognised ${what}`);
  const iv = Buffer.from(parts[1]!, 'base64url');
  const body = Buffer.from(parts[2]!, 'base64url');
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new SealError('sealed value is truncated');
  return { iv, body };
}
