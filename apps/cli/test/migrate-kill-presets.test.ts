import { join } from 'node:path';
import { type RedisServerHandle, startRedisServer } from '@oauth-cache/keyv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLegacyDump } from '../src/testing/index.js';
import {
  type Env,
  exportedRecords,
  killOnceLanded,
  openServerCache,
  runCli,
  serverEnv,
  tempDir,
} from './helpers/cli.js';
import {
  type KillOutcome,
  killAfter,
  killOnceCount,
  type TimedRun,
  timedRun,
} from './helpers/kill-points.js';
import {
  activeTokens,
  type DumpShape,
  expectDumpComplete,
  expiredEntries,
  liveTokens,
  type SeededToken,
  seedTokens,
} from './helpers/legacy-check.js';

// Issue 16: a migration into SQLite killed part-way and run again with the default environment
// (development preset, MAX_TOKEN_CACHE_SIZE 100) ended with 100 of 10,000 tokens and exit 0. A
// migration now never evicts, and checks before writing anything that the target's caps hold what
// the store holds plus what the run adds. Here runs are killed (SIGKILL) under both presets, into
// each kind of target, at points spread over a run, and the same command run again must end with
// every live token; runs the caps cannot hold must be refused, writing nothing.

/** The server's secret and encryption key, with no preset chosen and no cap overridden. */
function keysOnly(): Env {
  const { ENVIRONMENT: _preset, MAX_TOKEN_CACHE_SIZE: _cap, ...keys } = serverEnv();
  return keys;
}

/** The CLI's one-line refusal, up to the advice that follows it. */
function refusal(cap: number, held: number, adds: number): string {
  return `error: the target cannot hold this migration without evicting live tokens: MAX_TOKEN_CACHE_SIZE is ${cap}, the store holds ${held} tokens and this run adds ${adds} (needs at least ${held + adds}). Nothing was written;`;
}

/** Assert `stderr` is exactly one line, the refusal with these numbers. */
function expectRefusal(stderr: string, cap: number, held: number, adds: number): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  const expected = refusal(cap, held, adds);
  // Compared as a prefix, so a mismatch shows the two texts.
  expect(lines[0]?.slice(0, expected.length)).toBe(expected);
}

interface Preset {
  name: string;
  /** Added to the keys: nothing for the default environment. */
  env: Env;
  cap: number;
  dump: DumpShape;
  batchSize: number;
  /**
   * A run lasts long enough that a kill at a token-count threshold surely lands before it ends.
   * 90 tokens land in ~0.2 s: a 10 ms poll usually catches them mid-way, not surely on a loaded box.
   */
  thresholdKillsLandMidRun: boolean;
}

const PRESETS: Preset[] = [
  {
    // 90 live tokens (10 expired entries) in 20 batches of 5. Staged, it is one merge at the end
    // (the store merges at 5000 staged rows, ~1000 tokens, or when the load ends).
    name: 'the default environment (development, MAX_TOKEN_CACHE_SIZE 100)',
    env: {},
    cap: 100,
    dump: { access: 50, refresh: 50, expiredEvery: 10, users: 20, seed: 'dev' },
    batchSize: 5,
    thresholdKillsLandMidRun: false,
  },
  {
    // 4320 live tokens in 48 batches of 100. Staged: merges at ~1000 tokens, ~4000 and the end.
    name: 'ENVIRONMENT=production (MAX_TOKEN_CACHE_SIZE 5000)',
    env: { ENVIRONMENT: 'production' },
    cap: 5000,
    dump: { access: 2400, refresh: 2400, expiredEvery: 10, users: 100, seed: 'prod' },
    batchSize: 100,
    thresholdKillsLandMidRun: true,
  },
];

type TargetKind = 'empty-sqlite' | 'seeded-sqlite' | 'redis';

const TARGETS: Array<[string, TargetKind]> = [
  ['an empty SQLite file (staged bulk load)', 'empty-sqlite'],
  ['a SQLite file holding an unrelated live token (written in place)', 'seeded-sqlite'],
  ['Redis (written in place)', 'redis'],
];

/** What a kill point needs to know about the run it kills. */
interface KillContext {
  args: string[];
  env: Env;
  url: string;
  /** An uninterrupted run of the same command into a scratch target of the same kind. */
  timing: TimedRun;
  /** Active tokens once the run is complete (live tokens of the dump plus the seeded ones). */
  complete: number;
  seeded: number;
}

interface KillPoint {
  name: string;
  kill: (ctx: KillContext) => Promise<KillOutcome>;
  /**
   * What the kill must leave: no token of the dump, or some but not all of them (asserted when
   * the preset's runs last long enough for a threshold kill to land mid-run).
   */
  leaves?: 'nothing' | 'partial';
}

/** Kill once `atLeast` tokens are visible, holding a connection to the target only while it polls. */
async function killOnceVisible(ctx: KillContext, atLeast: number): Promise<KillOutcome> {
  const cache = await openServerCache(ctx.url, ctx.env);
  try {
    return await killOnceCount(ctx.args, ctx.env, cache, atLeast);
  } finally {
    await cache.close();
  }
}

/** Kill `fraction` of the way into the command's own work (node's start-up excluded). */
function killInto(fraction: number): KillPoint {
  return {
    name: `${fraction * 100} % into its work (timed)`,
    kill: (ctx) => {
      const startup = Math.max(0, ctx.timing.wallMs - ctx.timing.workMs);
      return killAfter(ctx.args, ctx.env, startup + fraction * ctx.timing.workMs);
    },
  };
}

/**
 * Timed kills hold no connection to the target (so a staged load switches the file to a rollback
 * journal, and a kill inside a merge may leave a hot journal for the next opener to roll back);
 * the "visible" kills poll the target through a connection of their own (a staged load then stays
 * in WAL mode).
 */
function killPointsFor(kind: TargetKind): KillPoint[] {
  const first: KillPoint =
    kind === 'empty-sqlite'
      ? {
          name: 'once its first merge landed',
          kill: (c) => killOnceVisible(c, c.seeded + 1),
          leaves: 'partial',
        }
      : { name: 'once its first batch landed', kill: (c) => killOnceVisible(c, c.seeded + 1) };
  const inPlace: KillPoint[] =
    kind === 'empty-sqlite'
      ? []
      : [
          {
            name: 'once half its tokens landed',
            kill: (c) => killOnceVisible(c, c.seeded + Math.ceil((c.complete - c.seeded) / 2)),
            leaves: 'partial',
          },
        ];
  return [
    {
      name: 'right after spawn, before anything is written',
      kill: (c) => killAfter(c.args, c.env, 0),
      leaves: 'nothing',
    },
    killInto(0.25),
    killInto(0.5),
    killInto(0.8),
    first,
    ...inPlace,
    {
      name: 'once every token is visible, before it exits (best effort)',
      kill: (c) => killOnceVisible(c, c.complete),
    },
  ];
}

describe.each(PRESETS)('a legacy migration under $name, killed (SIGKILL) and run again', (preset) => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let redis: RedisServerHandle;
  let dumpPath: string;
  let nextFile = 0;
  let nextRedisDb = 1;
  const env: Env = { ...keysOnly(), ...preset.env };
  const live = liveTokens(preset.dump);

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    dumpPath = join(dir, 'dump.json');
    await writeLegacyDump(dumpPath, preset.dump);
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
    await cleanup?.();
  });

  /** A fresh target of `kind`: its own SQLite file or Redis database, seeded as its kind says. */
  async function newTarget(kind: TargetKind): Promise<{ url: string; seeded: SeededToken[] }> {
    if (kind === 'redis') return { url: `${redis.url}/${nextRedisDb++}`, seeded: [] };
    const url = `sqlite://${join(dir, `target-${nextFile++}.db`)}`;
    return { url, seeded: kind === 'seeded-sqlite' ? await seedTokens(url, env, 1) : [] };
  }

  const argsFor = (url: string) => [
    'migrate',
    '--from',
    `legacy-json:${dumpPath}`,
    '--to',
    url,
    '--batch-size',
    String(preset.batchSize),
    '--json',
  ];

  it('uses a dump that fits the cap with a seeded token, close to the cap', () => {
    expect(live + 1).toBeLessThanOrEqual(preset.cap);
    expect(live).toBeGreaterThan(preset.cap * 0.8);
  });

  describe.each(TARGETS)('into %s', (_label, kind) => {
    let timing: TimedRun;
    let scratch: { url: string; seeded: SeededToken[] };

    beforeAll(async () => {
      scratch = await newTarget(kind);
      timing = await timedRun(argsFor(scratch.url), env);
    });

    it('an uninterrupted run (timed, for the kills below) ends complete', async () => {
      expect(timing.result.stderr).toBe('');
      expect(timing.result.code).toBe(0);
      const summary = JSON.parse(timing.result.stdout);
      expect(summary).toMatchObject({
        ok: true,
        errors: 0,
        alreadyPresent: 0,
        skippedExpired: expiredEntries(preset.dump),
      });
      expect(summary.migratedAccess + summary.migratedRefresh).toBe(live);
      await expectDumpComplete(scratch.url, env, preset.dump, scratch.seeded);
    });

    it.each(killPointsFor(kind))(
      'killed $name: the same command run again ends with every live token',
      async (point) => {
        const { url, seeded } = await newTarget(kind);
        const args = argsFor(url);
        const complete = live + seeded.length;
        const outcome = await point.kill({ args, env, url, timing, complete, seeded: seeded.length });
        // Killed, or done before the kill landed (a run can end sooner than the one timed).
        expect(outcome.signal === 'SIGKILL' || outcome.code === 0).toBe(true);

        const held = await activeTokens(url, env);
        expect(held).toBeGreaterThanOrEqual(seeded.length);
        expect(held).toBeLessThanOrEqual(complete);
        if (point.leaves === 'nothing') {
          expect(outcome.signal).toBe('SIGKILL');
          expect(held).toBe(seeded.length);
        }
        if (point.leaves === 'partial' && preset.thresholdKillsLandMidRun) {
          expect(outcome.signal).toBe('SIGKILL');
          expect(held).toBeGreaterThan(seeded.length);
          expect(held).toBeLessThan(complete);
        }

        const again = await runCli(args, env);
        expect(again.stderr).toBe('');
        expect(again.code).toBe(0);
        const summary = JSON.parse(again.stdout);
        expect(summary).toMatchObject({ ok: true, errors: 0, skippedExpired: expiredEntries(preset.dump) });
        expect(summary.migratedAccess + summary.migratedRefresh + summary.alreadyPresent).toBe(live);
        expect(summary.alreadyPresent).toBeGreaterThanOrEqual(held - seeded.length);
        await expectDumpComplete(url, env, preset.dump, seeded);
      },
    );
  });
});

describe('a migration the target caps cannot hold is refused (exit 2) before anything is written', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let redis: RedisServerHandle;
  let nextFile = 0;
  let nextRedisDb = 1;
  const keys = keysOnly();
  const development: Env = keys;
  const production: Env = { ...keys, ENVIRONMENT: 'production' };
  /** 10,000 live tokens, no expired entry: the dump of the issue. */
  const tenThousand: DumpShape = { access: 5000, refresh: 5000, expiredEvery: 0, users: 500, seed: 'big' };
  let tenThousandPath: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    tenThousandPath = join(dir, 'ten-thousand.json');
    await writeLegacyDump(tenThousandPath, tenThousand);
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
    await cleanup?.();
  });

  const sqliteUrl = () => `sqlite://${join(dir, `target-${nextFile++}.db`)}`;
  const urlOf = (kind: 'sqlite' | 'redis') =>
    kind === 'redis' ? `${redis.url}/${nextRedisDb++}` : sqliteUrl();
  const legacyArgs = (dump: string, url: string, extra: string[] = []) => [
    'migrate',
    '--from',
    `legacy-json:${dump}`,
    '--to',
    url,
    '--json',
    ...extra,
  ];

  it('default environment, 10,000 live tokens into an empty SQLite file: refused, the file holds no record', async () => {
    expect(liveTokens(tenThousand)).toBe(10_000);
    const url = sqliteUrl();
    const res = await runCli(legacyArgs(tenThousandPath, url, ['--batch-size', '5']), development);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expectRefusal(res.stderr, 100, 0, 10_000);

    const cache = await openServerCache(url, development);
    try {
      expect((await cache.stats()).summary.totalActiveTokens).toBe(0);
      expect((await exportedRecords(cache)).size).toBe(0);
    } finally {
      await cache.close();
    }
  });

  it.each(['sqlite', 'redis'] as const)(
    'default environment, the same dump into %s already holding 30 live tokens: refused, those tokens untouched',
    async (kind) => {
      const url = urlOf(kind);
      const seeded = await seedTokens(url, development, 30);
      const cache = await openServerCache(url, development);
      try {
        const before = await exportedRecords(cache);
        expect((await cache.stats()).summary.totalActiveTokens).toBe(30);

        const res = await runCli(legacyArgs(tenThousandPath, url), development);
        expect(res.code).toBe(2);
        expect(res.stdout).toBe('');
        expectRefusal(res.stderr, 100, 30, 10_000);

        expect(await exportedRecords(cache)).toEqual(before);
        expect((await cache.stats()).summary.totalActiveTokens).toBe(30);
        for (const s of seeded) expect((await cache.validateAccessToken(s.token))?.userId).toBe(s.userId);
      } finally {
        await cache.close();
      }
    },
  );

  it.each([
    ['Redis', 'redis', 0],
    ['a SQLite file holding an unrelated token', 'sqlite', 1],
  ] as const)(
    'production, 4,000 live tokens into %s killed halfway: the rerun fits (held + remaining) though held + the whole dump would not; then 2,000 more are refused',
    async (_label, kind, seedCount) => {
      const fourThousand: DumpShape = {
        access: 2000,
        refresh: 2000,
        expiredEvery: 0,
        users: 100,
        seed: `four-${kind}`,
      };
      const twoThousand: DumpShape = {
        access: 1000,
        refresh: 1000,
        expiredEvery: 0,
        users: 100,
        seed: `two-${kind}`,
      };
      const fourPath = join(dir, `four-${kind}.json`);
      const twoPath = join(dir, `two-${kind}.json`);
      await writeLegacyDump(fourPath, fourThousand);
      await writeLegacyDump(twoPath, twoThousand);
      const url = urlOf(kind);
      const seeded = await seedTokens(url, production, seedCount);
      const args = legacyArgs(fourPath, url, ['--batch-size', '100']);

      // Kill once half the dump landed (written in place: each batch lands whole as it goes).
      const watcher = await openServerCache(url, production);
      let killed: Awaited<ReturnType<typeof killOnceLanded>>;
      try {
        killed = await killOnceLanded(args, production, watcher, seedCount + 2000);
      } finally {
        await watcher.close();
      }
      expect(killed.signal).toBe('SIGKILL');
      const held = killed.landed;
      expect(held).toBeGreaterThanOrEqual(seedCount + 2000);
      expect(held).toBeLessThan(seedCount + 4000);
      // What the check must see: the whole dump on top of what is held would not fit...
      expect(held + 4000).toBeGreaterThan(5000);

      // ...but what is held plus what remains does: the rerun must go through, complete.
      const again = await runCli(args, production);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      const summary = JSON.parse(again.stdout);
      expect(summary).toMatchObject({ ok: true, errors: 0 });
      expect(summary.alreadyPresent).toBeGreaterThanOrEqual(held - seedCount);
      expect(summary.migratedAccess + summary.migratedRefresh + summary.alreadyPresent).toBe(4000);
      await expectDumpComplete(url, production, fourThousand, seeded);

      // The target now holds 4,000 (+ seeded) tokens: 2,000 more would not fit in 5,000.
      const cache = await openServerCache(url, production);
      try {
        const before = await exportedRecords(cache);
        const refused = await runCli(legacyArgs(twoPath, url), production);
        expect(refused.code).toBe(2);
        expect(refused.stdout).toBe('');
        expectRefusal(refused.stderr, 5000, 4000 + seedCount, 2000);
        expect(await exportedRecords(cache)).toEqual(before);
      } finally {
        await cache.close();
      }
      await expectDumpComplete(url, production, fourThousand, seeded);
    },
  );

  it('default environment, a JSONL export and a store of 150 tokens (made under production) into empty SQLite files: both refused', async () => {
    const dump: DumpShape = { access: 75, refresh: 75, expiredEvery: 0, users: 10, seed: 'jsonl' };
    const dumpPath = join(dir, 'hundred-fifty.json');
    await writeLegacyDump(dumpPath, dump);
    const source = sqliteUrl();
    const made = await runCli(legacyArgs(dumpPath, source), production);
    expect(made.code).toBe(0);
    const jsonl = join(dir, 'hundred-fifty.jsonl');
    const exported = await runCli(['export', '--store', source, '--out', jsonl, '--json'], production);
    expect(exported.code).toBe(0);

    const fromJsonl = sqliteUrl();
    const imported = await runCli(
      ['import', '--from', `jsonl:${jsonl}`, '--to', fromJsonl, '--json'],
      development,
    );
    expect(imported.code).toBe(2);
    expect(imported.stdout).toBe('');
    expectRefusal(imported.stderr, 100, 0, 150);

    const fromStore = sqliteUrl();
    const copied = await runCli(['migrate', '--from', source, '--to', fromStore, '--json'], development);
    expect(copied.code).toBe(2);
    expect(copied.stdout).toBe('');
    expectRefusal(copied.stderr, 100, 0, 150);

    for (const url of [fromJsonl, fromStore]) {
      const cache = await openServerCache(url, development);
      try {
        expect((await exportedRecords(cache)).size).toBe(0);
      } finally {
        await cache.close();
      }
    }
    // The source is read, never changed.
    await expectDumpComplete(source, production, dump);
  });
});
