import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const EXAMPLE = fileURLToPath(new URL('../examples/protected-server.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe('README example (examples/protected-server.mjs)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
  });

  it('serves a protected /mcp that accepts the demo token and challenges without one', async () => {
    if (!existsSync(DIST))
      throw new Error(`${DIST} is missing: run "pnpm --filter @oauth-cache/koa build" first`);
    const port = await freePort();
    child = spawn(process.execPath, [EXAMPLE], {
      env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', OAUTH_CACHE_STATUS_TOKEN: '' },
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    await expect.poll(() => /Bearer (demo-[a-z0-9]+)/.test(output), { timeout: 15_000 }).toBe(true);
    const token = /Bearer (demo-[a-z0-9]+)/.exec(output)?.[1] ?? '';
    const origin = `http://127.0.0.1:${port}`;

    const ok = await fetch(`${origin}/mcp`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ hello: 'demo', scopes: ['mcp'] });

    const challenged = await fetch(`${origin}/mcp`);
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get('www-authenticate')).toBe(
      `Bearer scope="mcp", resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
    );
    const metadata = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`);
    expect(await metadata.json()).toMatchObject({ resource: `${origin}/mcp` });
    expect((await fetch(`${origin}/health`)).status).toBe(200);
    expect((await fetch(`${origin}/metrics`)).status).toBe(200);
    expect(output).not.toContain('"level":50');

    const exited = new Promise<number | null>((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
