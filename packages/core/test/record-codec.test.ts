import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sealer } from '../src/crypto/sealer.js';
import { TokenSealer } from '../src/crypto/token-sealer.js';
import { RecordCodec } from '../src/records/codec.js';

const TOKEN = 'codec-test-token-0123456789abcdef';
const body = { uid: 'ivanov', uh: 'digest-of-ivanov', fam: 'f1', ud: { login: 'ivanov', password: 'p@ss' } };

function codec(level: 'enhanced' | 'maximum') {
  const sealer = new Sealer([{ kid: 'k1', key: randomBytes(32) }]);
  return new RecordCodec(level, sealer, new TokenSealer(randomBytes(32)), 'oc:');
}

describe('RecordCodec: the part sealed for the token', () => {
  for (const level of ['enhanced', 'maximum'] as const) {
    it(`opens only with the token, also for the same stored object after its holder opened it (${level})`, () => {
      const c = codec(level);
      const stored = c.encode('oc:at:x', 'access', Date.now() + 60_000, body, TOKEN);
      expect(JSON.stringify(stored)).not.toContain('p@ss');
      expect(c.decode('oc:at:x', stored, TOKEN)?.body).toMatchObject({ uid: 'ivanov', ud: body.ud });
      // The same object again, without the token: the memo of the full decoding must not answer.
      const partial = c.decode('oc:at:x', stored)?.body;
      expect(partial?.ud).toBeUndefined();
      expect(partial?.uh).toBe('digest-of-ivanov');
      if (level === 'maximum') expect(partial?.uid).toBeUndefined();
      else expect(partial?.uid).toBe('ivanov');
      expect(() => c.decode('oc:at:x', structuredClone(stored), 'another-token-0123456789abcdef')).toThrow();
    });
  }
});
