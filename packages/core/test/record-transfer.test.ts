import { afterEach, describe, expect, it } from 'vitest';
import type { CacheContext } from '../src/context.js';
import { Counters } from '../src/counters.js';
import { Digester } from '../src/crypto/digest.js';
import { Sealer } from '../src/crypto/sealer.js';
import { TokenSealer } from '../src/crypto/token-sealer.js';
import {
  createTokenCache,
  type ExportedRecord,
  MemoryStore,
  type SecurityLevel,
  type TokenCache,
} from '../src/index.js';
import { RecordTransfer } from '../src/record-transfer.js';
import { RecordCodec } from '../src/records/codec.js';

const SECRET = Buffer.alloc(32, 7).toString('base64');
const KEYS = `k1:${Buffer.alloc(32, 9).toString('base64')}`;
const GRANTS = 5;

const caches: TokenCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.close()));
});

function open(securityLevel: SecurityLevel, prefix = 'oc:') {
  const cache = createTokenCache({
    store: new MemoryStore(),
    environment: 'test',
    securityLevel,
    secret: SECRET,
    encryptionKeys: KEYS,
    autoCleanup: false,
    prefix,
  });
  caches.push(cache);
  return cache;
}

/**
 * The context `cache` gives its own importer, wired the way `TokenCache` wires it (same config,
 * store and keys), so that a test can import into it with a smaller grant memory.
 */
function contextOf(cache: TokenCache): CacheContext {
  const config = cache.config;
  const digester = new Digester(config.secret!);
  const sealer = new Sealer(config.encryptionKeys);
  const tokenSealer = new TokenSealer(config.secret!);
  return {
    config,
    store: cache.store,
    codec: new RecordCodec(config.securityLevel, sealer, tokenSealer, config.prefix),
    digester,
    sealer,
    tokenSealer,
    counters: new Counters(),
    events: cache.events,
    now: Date.now,
    key: (suffix) => config.prefix + suffix,
    userHash: (userId) => digester.digest(`user:${userId}`),
    security: () => {},
    operation: () => {},
    failure: () => {},
  };
}

/** Five users with a grant each (access and refresh token), exported: grants first, then the rest. */
async function exported(securityLevel: SecurityLevel) {
  const source = open(securityLevel);
  for (let i = 0; i < GRANTS; i++) {
    await source.storeToken({
      userId: `u${i}`,
      accessToken: `a${i}`,
      refreshToken: `r${i}`,
      userData: { password: `p${i}` },
    });
  }
  const records: ExportedRecord[] = [];
  for await (const r of source.exportRecords()) records.push(r);
  const grants = records.filter((r) => r.key.startsWith('g:'));
  const tokens = records.filter((r) => !r.key.startsWith('g:'));
  expect(grants).toHaveLength(GRANTS);
  expect(tokens).toHaveLength(GRANTS * 2);
  /** The token records of the grant `g:<id>`. */
  const tokensOf = (grant: ExportedRecord) =>
    tokens.filter((t) => (t.value as { g?: unknown }).g === grant.key.slice('g:'.length));
  return { grants, tokens, tokensOf };
}

describe('RecordTransfer grant memory', () => {
  for (const level of ['enhanced', 'maximum'] as const) {
    it(`imports tokens whose grants memory no longer keeps: read back from the target (${level})`, async () => {
      const { grants, tokens } = await exported(level);
      const target = open(level, 'target:');
      const transfer = new RecordTransfer(contextOf(target), 2);
      expect(await transfer.importMany(grants)).toEqual(grants.map(() => 'written'));
      // Memory keeps 2 of the 5 grants: the tokens of the 3 others need theirs from the target.
      expect(await transfer.importMany(tokens)).toEqual(tokens.map(() => 'written'));
      for (let i = 0; i < GRANTS; i++) {
        expect((await target.validateAccessToken(`a${i}`))?.userData).toEqual({ password: `p${i}` });
        expect(await target.getTokensForUser(`u${i}`)).toHaveLength(2);
      }
    });
  }

  it('keeps the most recent grants: an older one is read from the target, so its absence there shows', async () => {
    const { grants, tokensOf } = await exported('enhanced');
    const target = open('enhanced', 'target:');
    const transfer = new RecordTransfer(contextOf(target), 2);
    expect(await transfer.importMany(grants)).toEqual(grants.map(() => 'written'));
    const [oldest, newest] = [grants[0]!, grants[GRANTS - 1]!];
    // Gone from the target: only memory could still give these grants to their tokens.
    await target.store.delete(`target:${oldest.key}`, `target:${newest.key}`);
    await expect(transfer.importMany(tokensOf(oldest))).rejects.toThrow(/links to a grant not imported/);
    expect(await transfer.importMany(tokensOf(newest))).toEqual(['written', 'written']);
  });

  it('imports a batch holding more grants than memory keeps, with their tokens', async () => {
    const { grants, tokens } = await exported('maximum');
    const target = open('maximum', 'target:');
    const transfer = new RecordTransfer(contextOf(target), 2);
    const all = [...grants, ...tokens];
    expect(await transfer.importMany(all)).toEqual(all.map(() => 'written'));
    for (let i = 0; i < GRANTS; i++) {
      expect((await target.validateAccessToken(`a${i}`))?.userData).toEqual({ password: `p${i}` });
      expect(await target.getTokensForUser(`u${i}`)).toHaveLength(2);
    }
  });
});
