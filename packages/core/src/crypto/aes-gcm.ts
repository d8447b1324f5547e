import { createCipheriv, createDecipheriv } from 'node:crypto';

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
