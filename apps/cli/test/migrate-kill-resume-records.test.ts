import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenCache } from '@oauth-cache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyLogin, writeLegacyDump } from '../src/testing/index.js';
import {
  exportedRecords,
  killOnceLanded,
  openServerCache,
  runCli,
  serverEnv,
  tempDir,
} from './helpers/cli.js';

// Into an empty SQLite file a JSONL import is the store's staged load: a kill loses the batches
// staged since the last merge, and the next run, into a file that now holds data, writes in place.
describe('a JSONL import into an empty SQLite file killed (SIGKILL) halfway, then run again', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let source: TokenCache;
  let target: TokenCache;
  let jsonl: string;
  let targetUrl: string;
  const env = serverEnv();

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const dump = join(dir, 'dump.json');
    await writeLegacyDump(dump, {
      access: 3000,
      refresh: 3000,
      expiredEvery: 10,
      seed: 'kill-jsonl',
      users: 200,
    });
    const sourceUrl = `sqlite://${join(dir, 'source.db')}`;
    expect((await runCli(['migrate', '--from', `legacy-json:${dump}`, '--to', sourceUrl], env)).code).toBe(0);
    jsonl = join(dir, 'export.jsonl');
    expect((await runCli(['export', '--store', sourceUrl, '--out', jsonl], env)).code).toBe(0);
    source = await openServerCache(sourceUrl, env);
    targetUrl = `sqlite://${join(dir, 'target.db')}`;
    target = await openServerCache(targetUrl, env);
  });
  afterAll(async () => {
    await source?.close();
    await target?.close();
    await cleanup();
  });

  it('ends with every record of the file, as stored, with its indexes', async () => {
    const total = (await readFile(jsonl, 'utf8')).trim().split('\n').length;
    // Kill once some merges landed, well before the end.
    const {
      code,
      signal,
      landed: partial,
    } = await killOnceLanded(
      ['import', '--from', `jsonl:${jsonl}`, '--to', targetUrl, '--batch-size', '200'],
      env,
      target,
      total * 0.15,
    );
    expect(code).toBeNull();
    expect(signal).toBe('SIGKILL');
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(total);

    const again = await runCli(['import', '--from', `jsonl:${jsonl}`, '--to', targetUrl, '--json'], env);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary.migratedAccess + summary.migratedRefresh + summary.alreadyPresent).toBe(total);
    expect(summary.alreadyPresent).toBeGreaterThanOrEqual(partial);

    expect(await exportedRecords(target)).toEqual(await exportedRecords(source));
    expect((await target.stats()).summary).toEqual((await source.stats()).summary);
    for (const user of [0, 5, 199]) {
      const ids = (tokens: Array<{ id: string }>) => tokens.map((t) => t.id).sort();
      expect(ids(await target.getTokensForUser(legacyLogin(user, 200)))).toEqual(
        ids(await source.getTokensForUser(legacyLogin(user, 200))),
      );
    }
  });
});
