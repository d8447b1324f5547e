import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDetailed } from '../src/auth/bearer-header.js';
import { MAX_AUTHORIZATION_LENGTH, parseBearerHeader } from '../src/index.js';

describe('parseBearerHeader', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['Bearer   abc', 'abc'],
    ['Bearer a-b.c_d~e+f/g==', 'a-b.c_d~e+f/g=='],
    ['  Bearer abc  ', 'abc'],
  ])('accepts %j', (header, token) => {
    expect(parseBearerHeader(header)).toEqual({ kind: 'token', token });
  });

  it('reports a missing header', () => {
    expect(parseBearerHeader(undefined)).toEqual({ kind: 'missing' });
  });

  it.each([
    ['', /Empty/],
    ['   ', /Empty/],
    ['Bearer', /missing after the scheme/],
    ['Bearer ', /missing after the scheme/],
    ['Basic ZGVtbzpkZW1v', /scheme/],
    ['Bearerabc', /scheme/],
    ['Token abc', /scheme/],
    ['Bearer abc def', /More than one token/],
    ['Bearer abc\tdef', /More than one token/],
    ['Bearer ab"c', /token syntax/],
    ['Bearer a=b', /token syntax/],
    ['Bearer тест', /token syntax/],
    ['Bearer a,b', /token syntax/],
    [`Bearer ${'a'.repeat(MAX_AUTHORIZATION_LENGTH)}`, /longer than 4096/],
  ])('rejects %j as malformed', (header, description) => {
    const parsed = parseBearerHeader(header);
    expect(parsed.kind).toBe('malformed');
    expect(parsed.kind === 'malformed' && parsed.description).toMatch(description);
  });

  it('treats several header values as malformed, one as that value', () => {
    expect(parseBearerHeader(['Bearer a', 'Bearer b']).kind).toBe('malformed');
    expect(parseBearerHeader(['Bearer a'])).toEqual({ kind: 'token', token: 'a' });
  });

  it('never throws and never echoes the header in a description', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 50 }), (noise, secret) => {
        const header = `${noise}${secret}`;
        const parsed = parseBearerHeader(header);
        if (parsed.kind === 'token')
          expect(`Bearer ${parsed.token}`.length).toBeLessThanOrEqual(header.length);
        if (parsed.kind === 'malformed' && secret.length > 8)
          expect(parsed.description).not.toContain(secret);
      }),
      { numRuns: 500 },
    );
  });

  it('answers exactly like the detailed parse for any value (the one-regex fast path changes nothing)', () => {
    const b64 = fc.constantFrom(...'abcXYZ019-._~+/='.split(''));
    const noise = fc.constantFrom(' ', '\t', '"', ',', 'é', '\u00a0', '=', 'Bearer', 'bearer', 'BeArEr');
    const value = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc
        .tuple(
          fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Bearer ', ' Bearer', 'Basic', 'Bearer\t'),
          fc.constantFrom(' ', '  ', '', '\t'),
          fc.string({ unit: fc.oneof(b64, noise), maxLength: 40 }),
          fc.constantFrom('', ' ', '\t', '=', '=='),
        )
        .map((parts) => parts.join('')),
      fc.integer({ min: 4080, max: 4100 }).map((n) => `Bearer ${'a'.repeat(n - 7)}`),
    );
    fc.assert(
      fc.property(value, (header) => {
        expect(parseBearerHeader(header)).toEqual(parseDetailed(header));
      }),
      { numRuns: 3000 },
    );
  });
});
