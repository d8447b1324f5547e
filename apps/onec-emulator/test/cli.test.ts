import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { basic } from './helpers.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGTERM');
});

function run(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number>;
} {
  if (!existsSync(MAIN))
    throw new Error(`${MAIN} is missing: run "pnpm --filter @oauth-cache/onec-emulator build" first`);
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env } });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return { child, output: () => text, exited };
}

async function waitFor(output: () => string, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(output());
    if (match) return match;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${pattern}; output so far:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('node dist/main.js', () => {
  it('starts from env, says it is not 1C, serves and logs calls, stops on SIGTERM', async () => {
    const cli = run({ ONEC_EMULATOR_PORT: '0', ONEC_EMULATOR_HOST: '127.0.0.1' });
    const [, serviceUrl] = await waitFor(cli.output, /service URL (http:\/\/127\.0\.0\.1:\d+\/hs\/mcp)/);
    expect(cli.output()).toContain('NOT 1C: a development emulator');
    const response = await fetch(`${serviceUrl}/health`, {
      headers: { authorization: basic('ivanov', 'Пароль123') },
    });
    expect(response.status).toBe(200);
    await waitFor(cli.output, /GET \/hs\/mcp\/health user=ivanov -> 200/);
    expect(cli.output()).not.toContain('Пароль123');
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  });

  it('exits 2 naming the variable on a bad port', async () => {
    const cli = run({ ONEC_EMULATOR_PORT: 'eighty' });
    expect(await cli.exited).toBe(2);
    expect(cli.output()).toContain('ONEC_EMULATOR_PORT: expected an integer from 0 to 65535, got "eighty"');
  });

  it('ONEC_EMULATOR_DELAY_MS holds /rpc calls; a bad value exits 2 naming the variable', async () => {
    const cli = run({ ONEC_EMULATOR_PORT: '0', ONEC_EMULATOR_DELAY_MS: '300' });
    const [, serviceUrl] = await waitFor(cli.output, /service URL (http:\/\/127\.0\.0\.1:\d+\/hs\/mcp)/);
    await waitFor(cli.output, /every \/rpc call is held 300 ms/);
    const started = performance.now();
    const response = await fetch(`${serviceUrl}/rpc`, {
      method: 'POST',
      headers: { authorization: basic('demo', 'demo'), 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);

    for (const bad of ['soon', '-1', '600001']) {
      const refused = run({ ONEC_EMULATOR_PORT: '0', ONEC_EMULATOR_DELAY_MS: bad });
      expect(await refused.exited).toBe(2);
      expect(refused.output()).toContain(
        `ONEC_EMULATOR_DELAY_MS: expected whole milliseconds from 0 to 600000, got "${bad}"`,
      );
    }
  });

  it('exits 2 naming the file on a missing users file', async () => {
    const cli = run({ ONEC_EMULATOR_PORT: '0', ONEC_EMULATOR_USERS: '/nonexistent/users.json' });
    expect(await cli.exited).toBe(2);
    expect(cli.output()).toContain('/nonexistent/users.json: cannot read users file');
  });
});
