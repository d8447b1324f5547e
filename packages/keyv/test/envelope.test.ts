import fc from 'fast-check';
import Keyv from 'keyv';
import { describe, expect, it } from 'vitest';
import { EnvelopeCodec, isLive, parseKeyvText } from '../src/envelope.js';

const keyv = new Keyv();
const serialize = (data: unknown) => keyv.serialize!({ value: data, expires: 123 }) as string;

describe('parseKeyvText mirrors Keyv default deserializer', () => {
  const samples: unknown[] = [
    { v: 1, kind: 'access', exp: 1, body: { uid: 'u', scp: ['a', 'b'], ud: 'v1.k2.xyz' } },
    ':leading colon',
    '::two colons',
    { nested: [':a', { deep: [':b', 'c', 1, null, true] }], ':key': ':value' },
    Buffer.from('binary \u0000 data'),
    { buf: Buffer.from([1, 2, 3]) },
    'Пароль ✓ "quoted" \\ back',
    [],
    {},
    0,
    null,
  ];
  for (const sample of samples) {
    it(`${JSON.stringify(sample)?.slice(0, 60)}`, async () => {
      const text = serialize(sample);
      expect(parseKeyvText(text)).toEqual(await keyv.deserialize!(text));
    });
  }

  it('a "__proto__" key stays a plain property', () => {
    const parsed = parseKeyvText('{"value":{"__proto__":":x"},"expires":1}') as { value: object };
    expect(Object.getPrototypeOf(parsed.value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(parsed.value, '__proto__')?.value).toBe('x');
  });
});

describe('EnvelopeCodec', () => {
  it('round-trips through Keyv serialization and reports liveness by expiry', async () => {
    const codec = new EnvelopeCodec(keyv);
    const text = await codec.encode({ a: ':b' }, 5000);
    expect(await codec.decode(text)).toEqual({ value: { a: ':b' }, expires: 5000 });
    expect(await codec.live(text, 4999)).toEqual({ value: { a: ':b' }, expiresAt: 5000 });
    expect(await codec.live(text, 5000)).toBeUndefined();
    expect(isLive({ value: 1 }, Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('treats text that is not an envelope as absent', async () => {
    const codec = new EnvelopeCodec(keyv);
    expect(await codec.decode('not json')).toBeUndefined();
    expect(await codec.decode('{"other":1}')).toBeUndefined();
    expect(await codec.decode(undefined)).toBeUndefined();
  });
});

describe('EnvelopeCodec.encode', () => {
  const codec = new EnvelopeCodec(keyv);
  const keyvText = (value: unknown) => keyv.serialize!({ value, expires: 7 }) as string;

  it('writes what Keyv reads back, for any JSON value (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const text = await codec.encode(value, 7);
        expect(await keyv.deserialize!(text)).toEqual(await keyv.deserialize!(keyvText(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('hands values JSON.stringify would write differently to Keyv', async () => {
    const samples: unknown[] = [
      { a: ':colon' },
      [':x'],
      { b: Buffer.from([1, 2]) },
      { d: new Date(0) },
      [() => 1, 2],
      { deep: JSON.parse(`${'['.repeat(40)}1${']'.repeat(40)}`) },
    ];
    for (const sample of samples) expect(await codec.encode(sample, 7)).toBe(keyvText(sample));
  });

  it('uses plain JSON for a typical record', async () => {
    const record = { v: 1, kind: 'access', exp: 5, sealed: 'v1.k1.abc' };
    expect(await codec.encode(record, 7)).toBe(JSON.stringify({ value: record, expires: 7 }));
    expect(await keyv.deserialize!(await codec.encode(record, 7))).toEqual({ value: record, expires: 7 });
  });
});
