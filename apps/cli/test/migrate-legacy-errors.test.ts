import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, runCli, serverEnv, tempDir } from './helpers/cli.js';

const token = () => randomBytes(32).toString('base64url');
/** Naive ISO time (as Python's isoformat of a naive datetime) `days` from now, in UTC. */
/** `migrate --dry-run` of a legacy dump (the target is never opened), plus `extra` options. */
const dryRun = (file: string, ...extra: string[]) =>
  runCli(['migrate', '--from', `legacy-json:${file}`, '--to', 'sqlite:///unused.db', '--dry-run', ...extra]);
const naive = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().replace('Z', '000');

describe('migrate --from legacy-json: bad entries, positions and exit codes', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const t = {
    a1: token(),
    aExpired: token(),
    aNoLogin: token(),
    aBadType: token(),
    aBadDate: token(),
    a2: token(),
  };
  const r = { r1: token(), rNotObject: token(), rExpired: token() };
  const passwords = ['pw-alpha-91c2', 'pw-beta-7f10', 'pw-gamma-aa03'];
  let dump: string;
  const env = serverEnv();

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    dump = join(dir, 'dump.json');
    const lines = [
      '{',
      '  "access_tokens": {',
      `    "${t.a1}": {"login": "ivan", "password": "${passwords[0]}", "exp": "${naive(1)}"},`,
      `    "${t.aExpired}": {"login": "ivan", "password": "x", "exp": "${naive(-1)}"},`,
      `    "${t.aNoLogin}": {"password": "x", "exp": "${naive(1)}"},`,
      `    "${t.aBadType}": {"login": 42, "password": ["x"], "exp": "${naive(1)}"},`,
      `    "${t.aBadDate}": {"login": "ivan", "password": "x", "exp": "2030-02-30T10:00:00"},`,
      `    "": {"login": "ivan", "password": "x", "exp": "${naive(1)}"},`,
      `    "${t.a1}": {"login": "ivan", "password": "x", "exp": "${naive(2)}"},`,
      `    "${t.a2}": {"login": "petr", "password": "${passwords[1]}", "exp": "${naive(1).slice(0, 19)}+03:00"}`,
      '  },',
      '  "refresh_tokens": {',
      `    "${r.r1}": {"login": "ivan", "password": "${passwords[2]}", "exp": "${naive(10)}", "rotation_counter": 2},`,
      `    "${r.rNotObject}": "ivan",`,
      `    "${r.rExpired}": {"login": "ivan", "password": "x", "exp": "2020-01-01T00:00:00", "rotation_counter": 0}`,
      '  }',
      '}',
    ];
    await writeFile(dump, `${lines.join('\n')}\n`);
  });
  afterAll(() => cleanup());

  const secrets = () => [...Object.values(t), ...Object.values(r), ...passwords];

  it('dry run: exact counts, one line per bad entry naming section, rank, line and column; exit 1', async () => {
    const res = await runCli([
      'migrate',
      '--from',
      `legacy-json:${dump}`,
      '--to',
      `sqlite://${join(dir, 'dry.db')}`,
      '--dry-run',
      '--json',
    ]);
    expect(res.code).toBe(1);
    const summary = JSON.parse(res.stdout);
    expect(summary).toMatchObject({
      ok: false,
      dryRun: true,
      migratedAccess: 2,
      migratedRefresh: 1,
      skippedExpired: 2,
      errors: 6,
      fatal: null,
    });
    expect(errorLines(res.stderr)).toEqual([
      'error: access_tokens[#3] (line 5, col 5): missing field login',
      'error: access_tokens[#4] (line 6, col 5): login: expected a string, got number; password: expected a string, got array',
      'error: access_tokens[#5] (line 7, col 5): exp: "2030-02-30T10:00:00" is not a valid ISO-8601 date-time',
      'error: access_tokens[#6] (line 8, col 5): empty token',
      'error: access_tokens[#7] (line 9, col 5): duplicate token: the same token appears earlier in access_tokens',
      'error: refresh_tokens[#2] (line 14, col 5): entry must be an object with login, password and exp, got string',
    ]);
    // A dry run needs no keys and never opens the target.
    expect(existsSync(join(dir, 'dry.db'))).toBe(false);
    for (const secret of secrets()) {
      expect(res.stdout + res.stderr).not.toContain(secret);
    }
  });

  it('writes the valid entries; exit 0 within --max-errors, and a second run changes nothing', async () => {
    const target = `sqlite://${join(dir, 'real.db')}`;
    const first = await runCli(
      ['migrate', '--from', `legacy-json:${dump}`, '--to', target, '--max-errors', '6', '--json'],
      env,
    );
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      ok: true,
      migratedAccess: 2,
      migratedRefresh: 1,
      errors: 6,
      alreadyPresent: 0,
    });

    const second = await runCli(
      ['migrate', '--from', `legacy-json:${dump}`, '--to', target, '--max-errors', '6'],
      env,
    );
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('migrated: 0 access tokens, 0 refresh tokens');
    expect(second.stdout).toContain('3 already present');
    expect(second.stdout).toContain('nothing to do');

    const strict = await runCli(
      ['migrate', '--from', `legacy-json:${dump}`, '--to', target, '--max-errors', '5'],
      env,
    );
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('failed: 6 errors, more than --max-errors 5');
  });

  it('malformed JSON is fatal with line and column; --json still prints exactly one object', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(
      bad,
      `{"access_tokens": {\n  "${t.a1}": {"login": "ivan", "password": "x", "exp": "${naive(1)}"}\n  "${t.a2}": {}\n}}`,
    );
    const res = await dryRun(bad, '--json');
    expect(res.code).toBe(1);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!);
    expect(summary.fatal).toBe("malformed dump: expected ',' or '}' but found a string (line 3, col 3)");
    expect(summary.migratedAccess).toBe(1);
    expect(res.stderr).toContain('fatal: malformed dump');
    expect(res.stderr + res.stdout).not.toContain(t.a2);
  });

  it('a dump that is not an object of sections is fatal', async () => {
    const bad = join(dir, 'array.json');
    await writeFile(bad, '{"access_tokens": [1, 2]}');
    const res = await dryRun(bad);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'access_tokens must be an object mapping each token to its entry (line 1, col 19)',
    );
  });

  it('reads naive times in --legacy-tz', async () => {
    // 12:00 naive in Moscow (UTC+3) is 09:00 UTC: with an exp 2 hours ahead in UTC terms written as
    // Moscow wall time minus 2 h, the entry is expired in Moscow time but live in UTC.
    const inTwoHoursUtc = new Date(Date.now() + 2 * 3600_000).toISOString().slice(0, 19);
    const file = join(dir, 'tz.json');
    await writeFile(
      file,
      JSON.stringify({ access_tokens: { [token()]: { login: 'a', password: 'b', exp: inTwoHoursUtc } } }),
    );
    const utc = await dryRun(file, '--json');
    expect(JSON.parse(utc.stdout)).toMatchObject({ migratedAccess: 1, skippedExpired: 0 });
    const moscow = await dryRun(file, '--json', '--legacy-tz', 'Europe/Moscow');
    expect(JSON.parse(moscow.stdout)).toMatchObject({ migratedAccess: 0, skippedExpired: 1 });
  });
});
