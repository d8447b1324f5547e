/**
 * Scenario 3: graceful shutdown of the real binary on SIGTERM. MCP calls are held by a slow 1C (the
 * real emulator with `ONEC_EMULATOR_DELAY_MS`; logins are not delayed) when the signal arrives: the server stops accepting
 * new connections at once, lets the calls in flight finish, closes the store (SQLite checkpoints
 * and removes its WAL file only on a clean close) and exits 0 within MCP_SHUTDOWN_GRACE_MS. Calls
 * slower than the grace period are cut and the process still exits 0 on time.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorProcess, startEmulatorProcess } from '../src/emulator-process.js';
import { recordFigures } from '../src/figures.js';
import { HttpFailure, type HttpResponse, httpRequest, jsonOf, keepAlivePool } from '../src/http.js';
import { sleep } from '../src/load.js';
import { loginForTokens, mcpEcho, registerClient } from '../src/oauth-flow.js';
import { newSecrets, serverEnv, startServerProcess } from '../src/server-process.js';
import { checkSqliteFile } from '../src/sqlite-check.js';

const emulators: EmulatorProcess[] = [];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oc-rel-shutdown-'));
});
afterAll(async () => {
  await Promise.all(emulators.map((emulator) => emulator.stop()));
  await rm(dir, { recursive: true, force: true });
});

/** A server on a fresh SQLite file in front of a 1C that holds every MCP call `upstreamDelayMs`. */
async function startOnSqlite(name: string, graceMs: number, upstreamDelayMs: number) {
  const slow1C = await startEmulatorProcess([], { delayMs: upstreamDelayMs });
  emulators.push(slow1C);
  const file = join(dir, `${name}.sqlite`);
  const server = await startServerProcess(
    serverEnv({
      onecUrl: slow1C.url,
      store: `sqlite://${file}`,
      secrets: newSecrets(),
      extra: { MCP_SHUTDOWN_GRACE_MS: String(graceMs), MCP_LOG_LEVEL: 'info' },
    }),
  );
  const clientId = await registerClient(server.url);
  const { access_token } = await loginForTokens(server.url, clientId);
  return { server, file, token: access_token, slow1C };
}

/** Poll for a refused connection: resolves ms after `since` when a new connection was refused. */
async function refusedAfter(url: string, since: number, limitMs: number): Promise<number> {
  while (performance.now() - since < limitMs) {
    try {
      await httpRequest(`${url}/health`, { timeoutMs: 1000 });
    } catch (error) {
      if (error instanceof HttpFailure && error.kind === 'network') return performance.now() - since;
    }
    await sleep(20);
  }
  return Number.NaN;
}

describe('SIGTERM', () => {
  it('stops accepting, finishes in-flight calls, closes the store and exits 0 within the grace period', async () => {
    const graceMs = 8000;
    const delayMs = 2500;
    const { server, file, token, slow1C } = await startOnSqlite('graceful', graceMs, delayMs);
    // An idle keep-alive connection must not hold the shutdown up.
    const pool = keepAlivePool(1);
    expect((await httpRequest(`${server.url}/health`, { agent: pool })).status).toBe(200);

    const inFlight = Array.from({ length: 6 }, (_, i) =>
      mcpEcho(server.url, token, `in-flight-${i}`, 20_000).then(
        (r): HttpResponse | HttpFailure => r,
        (e: unknown) => e as HttpFailure,
      ),
    );
    await slow1C.waitForDelayed(6, 10_000);
    const signalledAt = performance.now();
    server.process.child.kill('SIGTERM');
    const refusedMs = await refusedAfter(server.url, signalledAt, 3000);
    const answers = await Promise.all(inFlight);
    const status = await server.process.exited;
    const exitMs = performance.now() - signalledAt;
    pool.destroy();

    recordFigures('graceful-shutdown', {
      graceMs,
      upstreamDelayMs: delayMs,
      inFlight: answers.length,
      newConnectionsRefusedAfterMs: Math.round(refusedMs),
      exitAfterMs: Math.round(exitMs),
      exitCode: status.code,
    });
    expect(refusedMs).toBeLessThan(3000);
    for (const [i, answer] of answers.entries()) {
      expect(answer).not.toBeInstanceOf(HttpFailure);
      const response = answer as HttpResponse;
      expect(response.status).toBe(200);
      expect(JSON.stringify(jsonOf(response))).toContain(`in-flight-${i}`);
    }
    expect(status).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(graceMs);
    expect(server.process.output()).toContain('shutting down');
    // The store was closed: SQLite checkpointed and removed its WAL on the last clean close.
    const wal = `${file}-wal`;
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);
    expect((await checkSqliteFile(file)).integrity).toEqual(['ok']);
  });

  it('cuts calls slower than the grace period and still exits 0 on time', async () => {
    const graceMs = 1500;
    const { server, token, slow1C } = await startOnSqlite('cut', graceMs, 30_000);
    const stuck = mcpEcho(server.url, token, 'too-slow', 40_000).then(
      (r): HttpResponse | HttpFailure => r,
      (e: unknown) => e as HttpFailure,
    );
    await slow1C.waitForDelayed(1, 10_000);
    const signalledAt = performance.now();
    server.process.child.kill('SIGTERM');
    const status = await server.process.exited;
    const exitMs = performance.now() - signalledAt;
    const answer = await stuck;

    recordFigures('graceful-shutdown-cut', {
      graceMs,
      exitAfterMs: Math.round(exitMs),
      exitCode: status.code,
    });
    expect(status).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeGreaterThanOrEqual(graceMs - 100);
    expect(exitMs).toBeLessThan(graceMs + 3000);
    // The call was cut (no answer), not answered with a half-baked success.
    expect(answer).toBeInstanceOf(HttpFailure);
  });
});
