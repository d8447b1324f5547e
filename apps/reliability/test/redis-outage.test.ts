/**
 * Scenario 1: Redis SIGKILLed while 20 clients call a protected route, then restarted on the same
 * port. The server keeps running; protected routes answer 503 + Retry-After (never 200 for a token
 * nobody issued, never 500); /health says the store is down; service comes back within 2 s of
 * Redis answering, without a server restart; with AOF (appendfsync always) no acknowledged token is
 * lost. A frozen Redis (SIGSTOP) gets 503s after the store's command deadline, never a hang. The
 * operator's log says why (store unavailable, with the driver's cause), not only `request failed`;
 * the liveness probe (/health/live) keeps answering 200 while readiness (/health) says 503.
 */
import { startRedisServer } from '@oauth-cache/keyv/testing';
import { describe, expect, it } from 'vitest';
import { startEmulatorProcess } from '../src/emulator-process.js';
import { recordFigures } from '../src/figures.js';
import { HttpFailure, httpRequest, jsonOf } from '../src/http.js';
import { sleep, tally } from '../src/load.js';
import { loginForTokens, mcpToolsList, pkcePair, registerClient, submitLogin } from '../src/oauth-flow.js';
import { outageFigures, type RedisOutageResult, runRedisOutage } from '../src/scenarios/redis-outage.js';
import { newSecrets, serverEnv, startServerProcess } from '../src/server-process.js';

describe('Redis killed under load (AOF, appendfsync always)', () => {
  let result: RedisOutageResult;

  it('keeps serving: 503 + Retry-After while Redis is down, 200 again within 2 s, no token lost', async () => {
    result = await runRedisOutage({
      loadConcurrency: 20,
      loginConcurrency: 8,
      beforeKillMs: 4000,
      outageMs: 3000,
      afterRestartMs: 2500,
      maxRequests: 200_000,
    });
    const figures = outageFigures(result);
    recordFigures('redis-outage', {
      ...figures,
      loadTally: tally(result.load),
      loginFailures: result.loginFailures,
    });
    const { timeline, load } = result;

    expect(result.serverSurvived, result.serverOutput).toBe(true);
    // Every request got an HTTP answer (no hang, no dropped connection), never a 500.
    expect(figures.noAnswer).toBe(0);
    expect(load.filter((s) => s.status >= 500 && s.status !== 503)).toEqual([]);
    // A forged token is never accepted, up or down.
    const forgedStatuses = new Set(load.filter((s) => s.label === 'forged').map((s) => s.status));
    expect([...forgedStatuses].every((status) => status === 401 || status === 503)).toBe(true);
    // Requests that started after Redis died and ended before it was restarted: all 503 + Retry-After.
    const duringOutage = load.filter(
      (s) => s.startedAt > timeline.killedAt && s.endedAt < timeline.restartAt,
    );
    expect(duringOutage.length).toBeGreaterThan(50);
    expect(duringOutage.filter((s) => s.status !== 503)).toEqual([]);
    expect(load.filter((s) => s.status === 503 && !s.retryAfter)).toEqual([]);
    // /health reported the store down during the outage, and up again after it.
    const healthDuring = result.health.filter(
      (s) => s.startedAt > timeline.killedAt && s.endedAt < timeline.restartAt,
    );
    expect(healthDuring.length).toBeGreaterThan(5);
    expect(healthDuring.every((s) => s.status === 503 && s.label === 'health:store-down')).toBe(true);
    expect(result.health.at(-1)).toMatchObject({ status: 200, label: 'health' });
    // Back within 2 s of Redis answering, and stable afterwards.
    expect(timeline.recoveredAt - timeline.restartedAt).toBeLessThan(2000);
    const settled = load.filter((s) => s.label === 'valid' && s.startedAt > timeline.recoveredAt + 500);
    expect(settled.length).toBeGreaterThan(20);
    expect(settled.filter((s) => s.status !== 200)).toEqual([]);
    // Logins failed only with 503 while Redis was down, and every acknowledged token survived.
    expect(Object.keys(result.loginFailures).filter((k) => !k.endsWith(':503'))).toEqual([]);
    expect(figures.tokensAcknowledgedBeforeKill).toBeGreaterThanOrEqual(3);
    expect(result.afterCheck.checked).toBe(result.acknowledged.length);
    expect(result.afterCheck.rejected).toEqual({});
    expect(figures.tokensLost).toBe(0);
  });
});

describe('Redis frozen (SIGSTOP): a silent server, not a closed socket', () => {
  it('answers 503 within the command deadline (never hangs), and 200 again once Redis thaws', async () => {
    const redis = await startRedisServer();
    const emulator = await startEmulatorProcess();
    const server = await startServerProcess(
      serverEnv({ onecUrl: emulator.url, store: redis.url, secrets: newSecrets() }),
    );
    try {
      const { access_token } = await loginForTokens(server.url, await registerClient(server.url));
      await redis.kill('SIGSTOP');
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 4 === 0
            ? httpRequest(`${server.url}/health`, { timeoutMs: 15_000 })
            : mcpToolsList(server.url, access_token, { timeoutMs: 15_000 })
          )
            .then((r) => ({
              status: r.status,
              retryAfter: r.headers['retry-after'],
              ms: performance.now() - started,
            }))
            .catch((e: unknown) => ({
              status: e instanceof HttpFailure ? e.kind : 'error',
              retryAfter: undefined,
              ms: performance.now() - started,
            })),
        ),
      );
      await redis.kill('SIGCONT');
      const thawed = performance.now();
      let backAfterMs = Number.NaN;
      while (performance.now() - thawed < 10_000) {
        if ((await mcpToolsList(server.url, access_token).catch(() => undefined))?.status === 200) {
          backAfterMs = performance.now() - thawed;
          break;
        }
        await sleep(20);
      }
      const slowest = Math.max(...answers.map((a) => a.ms));
      recordFigures('redis-frozen', {
        requests: answers.length,
        slowestAnswerMs: Math.round(slowest),
        backAfterThawMs: Math.round(backAfterMs),
      });
      expect(answers.every((a) => a.status === 503 && a.retryAfter !== undefined)).toBe(true);
      // The store's command deadline is 1.5 s: well under 5 s even on a loaded machine.
      expect(slowest).toBeLessThan(5000);
      expect(backAfterMs).toBeLessThan(2000);
    } finally {
      await redis.kill('SIGCONT');
      await server.stop();
      await emulator.stop();
      await redis.stop();
    }
  });
});

interface LogLine {
  level: number;
  msg?: string;
  event?: string;
  source?: string;
  path?: string;
}

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

describe('Redis killed: what the operator sees', () => {
  it('the log names the store failure and its cause on every kind of route; /health/live stays 200', async () => {
    const redis = await startRedisServer();
    const emulator = await startEmulatorProcess();
    const server = await startServerProcess(
      serverEnv({ onecUrl: emulator.url, store: redis.url, secrets: newSecrets() }),
    );
    try {
      const clientId = await registerClient(server.url);
      const { access_token } = await loginForTokens(server.url, clientId);
      await redis.kill('SIGKILL');
      // Clients are told (503), on every kind of route...
      expect((await mcpToolsList(server.url, access_token)).status).toBe(503);
      expect(
        (
          await httpRequest(`${server.url}/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"redirect_uris":["http://127.0.0.1:1/cb"]}',
          })
        ).status,
      ).toBe(503);
      expect((await submitLogin(server.url, clientId, pkcePair().challenge)).status).toBe(503);
      // ...readiness says the store is down, liveness says the process is fine.
      expect((await httpRequest(`${server.url}/health`)).status).toBe(503);
      const live = await httpRequest(`${server.url}/health/live`);
      expect(live.status).toBe(200);
      expect(jsonOf(live)).toEqual({ status: 'ok' });
      await sleep(300);

      // ...and the operator is told why: warnings beyond the `request failed` lines, naming the store.
      const lines = logLines(server.process.output());
      const storeLines = lines.filter((line) => line.level >= 40 && line.event === 'store_unavailable');
      expect(storeLines.some((line) => line.source === 'cache' && line.level === 50)).toBe(true);
      expect(storeLines.some((line) => line.path === '/register')).toBe(true);
      expect(storeLines.some((line) => line.path === '/authorize')).toBe(true);
      for (const line of storeLines) expect(line.msg).toMatch(/^token store unavailable: redis:\/\//);
      expect(server.process.output()).not.toContain(access_token);
    } finally {
      await server.stop();
      await emulator.stop();
      await redis.stop();
    }
  });
});
