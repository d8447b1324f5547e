/**
 * Scenario 1: Redis SIGKILLed under load, then restarted on the same port.
 *
 * One server process on a redis-server with AOF (`appendfsync always`), the 1C emulator in its own
 * process. While `loadConcurrency` clients call `POST /mcp tools/list` (mostly with a valid token,
 * some with forged ones) and `loginConcurrency` users log in, Redis is SIGKILLed, left down for
 * `outageMs`, and restarted. The result holds every answer with its time so the caller can check
 * what each phase looked like; every token the server acknowledged is checked afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer } from '@oauth-cache/keyv/testing';
import { loadUsers, startEmulatorProcess } from '../emulator-process.js';
import { HttpFailure, httpRequest, keepAlivePool } from '../http.js';
import { runLoad, type Sample, sleep } from '../load.js';
import { type AcknowledgedToken, runLoginBurst } from '../login-burst.js';
import { loginForTokens, mcpToolsList, registerClient } from '../oauth-flow.js';
import { newSecrets, serverEnv, startServerProcess } from '../server-process.js';
import { checkAccessTokens, type TokenCheckResult } from '../token-check.js';

/** Options of {@link runRedisOutage}. */
export interface RedisOutageOptions {
  loadConcurrency: number;
  loginConcurrency: number;
  /** Load before the kill. */
  beforeKillMs: number;
  /** Redis down for this long. */
  outageMs: number;
  /** Load after Redis answers again. */
  afterRestartMs: number;
  /** Hard bound on load requests. */
  maxRequests: number;
  /** Share of load requests sent with a forged (never issued) token, 0..1. */
  forgedShare?: number;
}

/** Phase boundaries, in ms on the load's clock. */
export interface OutageTimeline {
  /** SIGKILL sent. */
  killAt: number;
  /** redis-server has exited. */
  killedAt: number;
  /** Restart begun. */
  restartAt: number;
  /** redis-server answers PING again. */
  restartedAt: number;
  /** First 200 from `/mcp` with the valid token after the restart (NaN if none). */
  recoveredAt: number;
}

/** Everything the run saw. */
export interface RedisOutageResult {
  timeline: OutageTimeline;
  /** `performance.now()` when the load started (its clock's zero). */
  loadOrigin: number;
  /** Answers to the load (`valid` / `forged` labels). */
  load: Sample[];
  /** `/health` polled every 50 ms (label `health:store-down` when the body says the store is down). */
  health: Sample[];
  /** Tokens the server acknowledged during the run. */
  acknowledged: AcknowledgedToken[];
  /** Login flows that failed, by `step:status`. */
  loginFailures: Record<string, number>;
  /** The acknowledged tokens checked once Redis was back. */
  afterCheck: TokenCheckResult;
  /** The server process was still running at the end. */
  serverSurvived: boolean;
  /** The server's output tail (for failure messages). */
  serverOutput: string;
}

/** Run the scenario once with fresh processes; everything started is stopped before returning. */
export async function runRedisOutage(options: RedisOutageOptions): Promise<RedisOutageResult> {
  const redisDir = await mkdtemp(join(tmpdir(), 'oc-rel-redis-'));
  const redis = await startRedisServer({ appendOnly: true, dir: redisDir });
  const emulator = await startEmulatorProcess(loadUsers(options.loginConcurrency));
  const server = await startServerProcess(
    serverEnv({ onecUrl: emulator.url, store: redis.url, secrets: newSecrets() }),
  );
  const pool = keepAlivePool(options.loadConcurrency);
  try {
    const clientId = await registerClient(server.url);
    const { access_token: validToken } = await loginForTokens(server.url, clientId);
    const forgedShare = options.forgedShare ?? 0.1;
    const stopLogins = new AbortController();
    const totalMs = options.beforeKillMs + options.outageMs + options.afterRestartMs + 10_000;

    const load = runLoad({
      concurrency: options.loadConcurrency,
      maxRequests: options.maxRequests,
      maxDurationMs: totalMs,
      next: (i) => {
        const forged = (i * 7919) % 1000 < forgedShare * 1000;
        const token = forged ? randomBytes(32).toString('base64url') : validToken;
        return {
          label: forged ? 'forged' : 'valid',
          send: () => mcpToolsList(server.url, token, { agent: pool, timeoutMs: 10_000 }),
        };
      },
      signal: stopLogins.signal,
    });
    const health: Sample[] = [];
    const healthLoop = (async () => {
      while (!stopLogins.signal.aborted) {
        const startedAt = load.now();
        try {
          const r = await httpRequest(`${server.url}/health`, { timeoutMs: 5000 });
          health.push({
            // The health document says which part is down: keep "store down" in the label.
            label: r.body.includes('"ok":false') ? 'health:store-down' : 'health',
            startedAt,
            endedAt: load.now(),
            status: r.status,
            retryAfter: r.headers['retry-after'] as string | undefined,
            failure: undefined,
          });
        } catch (error) {
          if (!(error instanceof HttpFailure)) throw error;
          health.push({
            label: 'health',
            startedAt,
            endedAt: load.now(),
            status: 0,
            retryAfter: undefined,
            failure: error.kind,
          });
        }
        await sleep(50);
      }
    })();
    const logins = runLoginBurst({
      base: server.url,
      clientId,
      concurrency: options.loginConcurrency,
      maxLogins: 100_000,
      maxDurationMs: totalMs,
      signal: stopLogins.signal,
    });

    await sleep(options.beforeKillMs);
    const killAt = load.now();
    await redis.kill('SIGKILL');
    const killedAt = load.now();
    await sleep(options.outageMs);
    const restartAt = load.now();
    await redis.restart();
    const restartedAt = load.now();
    let recoveredAt = Number.NaN;
    while (load.now() - restartedAt < 10_000) {
      const probe = await mcpToolsList(server.url, validToken, { timeoutMs: 5000 }).catch(() => undefined);
      if (probe?.status === 200) {
        recoveredAt = load.now();
        break;
      }
      await sleep(10);
    }
    await sleep(options.afterRestartMs);
    stopLogins.abort();
    const [samples, burst] = await Promise.all([load.done, logins, healthLoop]);

    const afterCheck = await checkAccessTokens(
      server.url,
      burst.acknowledged.map((t) => t.tokens.access_token),
    );
    return {
      timeline: { killAt, killedAt, restartAt, restartedAt, recoveredAt },
      loadOrigin: load.origin,
      load: samples,
      health,
      acknowledged: burst.acknowledged,
      loginFailures: burst.failures,
      afterCheck,
      serverSurvived: !server.process.hasExited(),
      serverOutput: server.process.output(),
    };
  } finally {
    pool.destroy();
    await server.stop();
    await emulator.stop();
    await redis.stop();
    await rm(redisDir, { recursive: true, force: true });
  }
}

/** The figures a run produced (what the README reports). */
export function outageFigures(result: RedisOutageResult): Record<string, number | string> {
  const { timeline, load } = result;
  const rate = (from: number, to: number, status?: number) => {
    const n = load.filter(
      (s) => s.endedAt >= from && s.endedAt < to && (status === undefined || s.status === status),
    ).length;
    return Math.round(n / ((to - from) / 1000));
  };
  const end = Math.max(...load.map((s) => s.endedAt));
  return {
    requests: load.length,
    reqPerSecBeforeKill: rate(0, timeline.killAt),
    okPerSecBeforeKill: rate(0, timeline.killAt, 200),
    reqPerSecDuringOutage: rate(timeline.killedAt, timeline.restartAt),
    reqPerSecAfterRecovery: rate(timeline.recoveredAt, end),
    answered503: load.filter((s) => s.status === 503).length,
    answered503WithoutRetryAfter: load.filter((s) => s.status === 503 && !s.retryAfter).length,
    answered500: load.filter((s) => s.status >= 500 && s.status !== 503).length,
    forged200: load.filter((s) => s.label === 'forged' && s.status === 200).length,
    noAnswer: load.filter((s) => s.status === 0).length,
    outageMs: Math.round(timeline.restartAt - timeline.killedAt),
    redisRestartMs: Math.round(timeline.restartedAt - timeline.restartAt),
    recoveryMsAfterRedisUp: Math.round(timeline.recoveredAt - timeline.restartedAt),
    recoveryMsFromRestart: Math.round(timeline.recoveredAt - timeline.restartAt),
    tokensAcknowledged: result.acknowledged.length,
    tokensAcknowledgedBeforeKill: result.acknowledged.filter(
      (t) => t.receivedAt - result.loadOrigin <= timeline.killAt,
    ).length,
    tokensLost: result.afterCheck.checked - result.afterCheck.valid,
  };
}
