import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, serverEnv, tempDir } from './helpers/cli.js';

describe('usage errors: one line on stderr, exit 2, nothing written', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let dump: string;
  const env = serverEnv();

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    dump = join(dir, 'dump.json');
    await writeFile(dump, '{"access_tokens": {}, "refresh_tokens": {}}');
  });
  afterAll(() => cleanup());

  const cases: Array<[string, () => string[], Record<string, string>, RegExp]> = [
    [
      'unknown option',
      () => ['migrate', '--from', `legacy-json:${dump}`, '--to', 'sqlite://x.db', '--bogus'],
      {},
      /unknown option '--bogus'/,
    ],
    [
      'misspelt option (suggestion on the same line)',
      () => ['stats', '--stor', 'sqlite://x.db'],
      {},
      /unknown option '--stor'.*Did you mean --store\?/,
    ],
    ['unknown command', () => ['migrat'], {}, /unknown command 'migrat'/],
    ['missing --from', () => ['migrate', '--to', 'sqlite://x.db'], {}, /required option '--from <source>'/],
    [
      'unreadable file',
      () => ['migrate', '--from', `legacy-json:${join(dir, 'missing.json')}`, '--to', 'sqlite://x.db'],
      {},
      /cannot read .*missing\.json \(ENOENT\)/,
    ],
    [
      'directory as file',
      () => ['migrate', '--from', `jsonl:${dir}`, '--to', 'sqlite://x.db'],
      {},
      /is not a regular file/,
    ],
    [
      'bad target URL',
      () => ['migrate', '--from', `legacy-json:${dump}`, '--to', 'ftp://host/x'],
      {},
      /--to: unknown store scheme "ftp:\/\/"/,
    ],
    ['bad redis URL', () => ['stats', '--store', 'redis://host:99999'], {}, /--store: not a valid redis URL/],
    [
      'unknown source',
      () => ['migrate', '--from', 'dump.json', '--to', 'sqlite://x.db'],
      {},
      /unknown source/,
    ],
    [
      'memory:// source',
      () => ['migrate', '--from', 'memory://', '--to', 'sqlite://x.db'],
      {},
      /memory:\/\/ cannot be a source/,
    ],
    [
      'memory:// target',
      () => ['migrate', '--from', `legacy-json:${dump}`, '--to', 'memory://'],
      {},
      /memory:\/\/ cannot be a target/,
    ],
    [
      'bad batch size',
      () => ['migrate', '--from', `legacy-json:${dump}`, '--to', 'sqlite://x.db', '--batch-size', '0'],
      {},
      /--batch-size <n>' argument '0' is invalid/,
    ],
    [
      'bad max errors',
      () => ['migrate', '--from', `legacy-json:${dump}`, '--to', 'sqlite://x.db', '--max-errors', '-1'],
      {},
      /--max-errors/,
    ],
    [
      'unknown time zone',
      () => [
        'migrate',
        '--from',
        `legacy-json:${dump}`,
        '--to',
        'sqlite://x.db',
        '--legacy-tz',
        'Mars/Olympus',
      ],
      {},
      /unknown time zone "Mars\/Olympus"/,
    ],
    ['no store', () => ['stats'], {}, /--store <url> is required \(or set OAUTH_CACHE_STORE\)/],
    [
      'revoke without a target',
      () => ['revoke', '--store', 'sqlite://x.db'],
      {},
      /exactly one of --user <login> or --family <id>/,
    ],
    [
      'revoke with both',
      () => ['revoke', '--store', 'sqlite://x.db', '--user', 'a', '--family', 'b'],
      {},
      /exactly one of/,
    ],
    [
      'bad environment',
      () => ['stats', '--store', 'sqlite://x.db'],
      { TOKEN_TTL: 'soon' },
      /TOKEN_TTL: expected a whole number/,
    ],
  ];

  for (const [name, args, extraEnv, message] of cases) {
    it(name, async () => {
      const res = await runCli(args(), { ...env, ...extraEnv }, dir);
      expect(res.code).toBe(2);
      expect(res.stdout).toBe('');
      const lines = res.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(message);
    });
  }

  it('migrate needs the server secret and keys (else the tokens would not match the server)', async () => {
    const noSecret = await runCli(
      ['migrate', '--from', `legacy-json:${dump}`, '--to', 'sqlite://x.db'],
      {},
      dir,
    );
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/^error: OAUTH_CACHE_SECRET is required/);
    const noKeys = await runCli(
      ['migrate', '--from', `legacy-json:${dump}`, '--to', 'sqlite://x.db'],
      { OAUTH_CACHE_SECRET: env.OAUTH_CACHE_SECRET! },
      dir,
    );
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toMatch(/OAUTH_CACHE_ENCRYPTION_KEYS is required at security level "enhanced"/);
  });

  it('refuses to write 1C passwords in the clear at security level basic', async () => {
    const res = await runCli(
      ['migrate', '--from', `legacy-json:${dump}`, '--to', 'sqlite://x.db'],
      { ...env, ENVIRONMENT: 'development', SECURITY_LEVEL: 'basic' },
      dir,
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/SECURITY_LEVEL=basic would store the 1C passwords/);
  });

  it('masks the password of a redis URL in messages', async () => {
    const res = await runCli(
      [
        'migrate',
        '--from',
        'redis://app:hunter2secret@127.0.0.1:1/0',
        '--to',
        'redis://app:hunter2secret@127.0.0.1:1/0',
      ],
      env,
      dir,
    );
    expect(res.code).toBe(2);
    expect(res.stderr).not.toContain('hunter2secret');
  });

  it('an unreachable store is a failure (exit 1), not a usage error', async () => {
    const res = await runCli(['stats', '--store', 'redis://127.0.0.1:1'], env, dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cannot open redis:\/\/127\.0\.0\.1:1/);
  });

  it('--help and --version exit 0 on stdout', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    for (const command of ['migrate', 'import', 'stats', 'purge', 'revoke', 'export'])
      expect(help.stdout).toContain(command);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('an unreadable (permission) file is a usage error', async () => {
    if (process.getuid?.() === 0) {
      // root reads any file: check the message path through a dangling path instead.
      const res = await runCli(
        ['migrate', '--from', `jsonl:${join(dir, 'nope', 'x.jsonl')}`, '--to', 'sqlite://x.db'],
        env,
        dir,
      );
      expect(res.code).toBe(2);
      return;
    }
    const locked = join(dir, 'locked.json');
    await writeFile(locked, '{}');
    await chmod(locked, 0o000);
    const res = await runCli(
      ['migrate', '--from', `legacy-json:${locked}`, '--to', 'sqlite://x.db'],
      env,
      dir,
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/EACCES/);
  });
});
