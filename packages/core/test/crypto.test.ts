import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Digester, SealError, Sealer } from '../src/index.js';

const key = (n: number) => ({ kid: `k${n}`, key: Buffer.alloc(32, n) });

describe('Digester', () => {
  it('is HMAC-SHA-256 base64url for tokens of any length and bytes (property)', () => {
    const secret = Buffer.alloc(32, 5);
    const d = new Digester(secret);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 5000 }), (token) => {
        const out = d.digest(token);
        expect(out).toBe(createHmac('sha256', secret).update(token, 'utf8').digest('base64url'));
        expect(out).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('Sealer', () => {
  it('round-trips any JSON value and binds it to its context (property)', () => {
    const sealer = new Sealer([key(1)]);
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ maxLength: 50 }), (value, aad) => {
        const sealed = sealer.seal(value, aad);
        expect(sealed.startsWith('v1.k1.')).toBe(true);
        expect(sealer.open(sealed, aad)).toEqual(JSON.parse(JSON.stringify(value ?? null)));
        expect(() => sealer.open(sealed, `${aad}x`)).toThrow(SealError);
      }),
      { numRuns: 300 },
    );
  });

  it('opens old records after rotation and refuses unknown or tampered ones', () => {
    const old = new Sealer([key(1)]);
    const rotated = new Sealer([key(2), key(1)]);
    const sealed = old.seal({ password: 'p' }, 'at:x');
    expect(rotated.open(sealed, 'at:x')).toEqual({ password: 'p' });
    expect(rotated.seal(1, 'a').startsWith('v1.k2.')).toBe(true);
    expect(() => new Sealer([key(3)]).open(sealed, 'at:x')).toThrow(/no encryption key with id "k1"/);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0]! ^= 1;
    parts[3] = body.toString('base64url');
    expect(() => old.open(parts.join('.'), 'at:x')).toThrow(/failed authentication/);
  });

  it('never throws anything but SealError on arbitrary input (property)', () => {
    const sealer = new Sealer([key(1)]);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (junk) => {
        expect(() => sealer.open(junk, 'k')).toThrow(SealError);
      }),
    );
  });
});
