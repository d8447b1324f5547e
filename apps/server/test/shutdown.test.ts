/**
 * Graceful shutdown of the real binary: on SIGTERM it stops accepting connections, lets an
 * in-flight login (waiting on a slow 1C) finish, closes the store and exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { s256Challenge } from '@oauth-cache/authorization-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedSecrets, formFields } from './support/harness.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let slow1C: Server;
let dir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  // A 1C stand-in whose /health takes 1.5 s: the login is in flight while we send SIGTERM.
  slow1C = createServer((req, res) => {
    setTimeout(() => {
      const ok = req.headers.authorization === `Basic ${Buffer.from('demo:demo').toString('base64')}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    }, 1500);
  });
  await new Promise<void>((resolve) => slow1C.listen(0, '127.0.0.1', resolve));
  dir = mkdtempSync(join(tmpdir(), 'oc-shutdown-'));
});
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  slow1C?.closeAllConnections();
  slow1C?.close();
  rmSync(dir, { recursive: true, force: true });
});

function startBinary(): Promise<{ url: string; output: () => string }> {
  const proc = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      ENVIRONMENT: 'test',
      MCP_PORT: '0',
      MCP_ONEC_URL: `http://127.0.0.1:${(slow1C.address() as AddressInfo).port}`,
      MCP_SHUTDOWN_GRACE_MS: '8000',
      OAUTH_CACHE_DATA_DIR: dir,
      ...fixedSecrets(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, output: () => out });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`server exited early (${code}):\n${out}`)));
  });
}

describe('graceful shutdown', () => {
  it('finishes the in-flight request, refuses new ones, and exits 0', async () => {
    const { url, output } = await startBinary();
    const redirect = 'http://127.0.0.1:42000/cb';
    const reg = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [redirect] }),
    });
    const { client_id } = (await reg.json()) as { client_id: string };
    const query = new URLSearchParams({
      client_id,
      redirect_uri: redirect,
      response_type: 'code',
      code_challenge: s256Challenge('z'.repeat(43)),
      code_challenge_method: 'S256',
    });
    const fields = formFields(await (await fetch(`${url}/authorize?${query}`)).text());
    fields.set('username', 'demo');
    fields.set('password', 'demo');
    const inFlight = fetch(`${url}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', connection: 'close' },
      body: fields,
      redirect: 'manual',
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    const signalledAt = Date.now();
    child!.kill('SIGTERM');
    // New connections are refused once the signal is handled (polled: the child may be slow to react).
    let refused = false;
    for (let i = 0; i < 50 && !refused; i++) {
      refused = await fetch(`${url}/health`, { headers: { connection: 'close' } }).then(
        () => false,
        () => true,
      );
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(refused).toBe(true);

    const response = await inFlight;
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:42000\/cb\?code=/);
    expect(await exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(8000);
    expect(output()).toContain('shutting down');
  });
});
