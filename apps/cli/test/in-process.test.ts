import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../src/cli/io.js';
import { main } from '../src/cli/program.js';
import { writeLegacyDump } from '../src/testing/index.js';
import { serverEnv, tempDir } from './helpers/cli.js';

/** In-process run with captured streams; `tty` makes stderr look interactive. */
async function run(
  args: string[],
  env: Record<string, string | undefined>,
  options: { tty?: boolean; interruptAtStart?: boolean } = {},
) {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: options.tty === true });
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const io: CliIO = {
    stdout,
    stderr,
    env,
    onInterrupt: (handler) => {
      if (options.interruptAtStart) queueMicrotask(handler);
      return () => undefined;
    },
  };
  const code = await main(['node', 'oauth-cache', ...args], io);
  return { code, stdout: out, stderr: err };
}

describe('progress and interruption (in process)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let dump: string;
  const env = serverEnv();

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    dump = join(dir, 'dump.json');
    await writeLegacyDump(dump, { access: 3000, refresh: 1000 });
  });
  afterAll(() => cleanup());

  it('draws a progress bar with rate and ETA on an interactive stderr, results stay on stdout', async () => {
    const res = await run(
      ['migrate', '--from', `legacy-json:${dump}`, '--to', `sqlite://${join(dir, 'a.db')}`, '--dry-run'],
      env,
      { tty: true },
    );
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('\r\x1b[2K');
    expect(res.stderr).toMatch(/check \[#+\] 100% 4,000 entries [\d,]+\/s ETA 0:00/);
    expect(res.stdout).not.toContain('\r');
    expect(res.stdout).toContain('would migrate: 3,000 access tokens, 1,000 refresh tokens');
  });

  it('no bar with --json or a non-interactive stderr', async () => {
    const json = await run(
      [
        'migrate',
        '--from',
        `legacy-json:${dump}`,
        '--to',
        `sqlite://${join(dir, 'a.db')}`,
        '--dry-run',
        '--json',
      ],
      env,
      { tty: true },
    );
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout).migratedAccess).toBe(3000);
    const plain = await run(
      ['migrate', '--from', `legacy-json:${dump}`, '--to', `sqlite://${join(dir, 'a.db')}`, '--dry-run'],
      env,
    );
    expect(plain.stderr).toBe('');
  });

  it('SIGINT stops after the batch in flight: exit 130, already written entries kept', async () => {
    const target = `sqlite://${join(dir, 'b.db')}`;
    const res = await run(['migrate', '--from', `legacy-json:${dump}`, '--to', target, '--json'], env, {
      interruptAtStart: true,
    });
    expect(res.code).toBe(130);
    const summary = JSON.parse(res.stdout);
    expect(summary.interrupted).toBe(true);
    expect(summary.ok).toBe(false);
    expect(res.stderr).toContain('interrupted: finishing the batch in flight');
    const resumed = await run(['migrate', '--from', `legacy-json:${dump}`, '--to', target, '--json'], env);
    expect(resumed.code).toBe(0);
    const done = JSON.parse(resumed.stdout);
    expect(done.migratedAccess + done.migratedRefresh + done.alreadyPresent).toBe(4000);
    expect(done.alreadyPresent).toBe(summary.migratedAccess + summary.migratedRefresh);
  });
});
