#!/usr/bin/env node
// Longer run of scenario 1 (Redis SIGKILLed under load, restarted on the same port).
//  Part 1: autocannon 9 (20 connections) on POST /mcp tools/list for BEFORE+OUTAGE+AFTER seconds,
//          Redis killed after BEFORE s and restarted OUTAGE s later; per-second status counts.
//  Part 2: the suite's scenario (fetch loop + parallel logins, AOF appendfsync always) with longer
//          phases: 503s, recovery time, tokens acknowledged and lost.
// Env: SOAK_BEFORE_S (10), SOAK_OUTAGE_S (10), SOAK_AFTER_S (10), SOAK_CONNECTIONS (20).
// Build first: pnpm --filter @oauth-cache/reliability... build
import { startRedisServer } from '@oauth-cache/keyv/testing';
import autocannon from 'autocannon';
import {
  loginForTokens,
  newSecrets,
  outageFigures,
  recordFigures,
  registerClient,
  runRedisOutage,
  serverEnv,
  sleep,
  startEmulatorProcess,
  startServerProcess,
  TOOLS_LIST_BODY,
} from '../dist/index.js';

const BEFORE = Number(process.env.SOAK_BEFORE_S ?? 10);
const OUTAGE = Number(process.env.SOAK_OUTAGE_S ?? 10);
const AFTER = Number(process.env.SOAK_AFTER_S ?? 10);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 20);

async function autocannonTimeline() {
  const redis = await startRedisServer({ appendOnly: true });
  const emulator = await startEmulatorProcess();
  const server = await startServerProcess(
    serverEnv({ onecUrl: emulator.url, store: redis.url, secrets: newSecrets() }),
  );
  try {
    const { access_token } = await loginForTokens(server.url, await registerClient(server.url));
    const seconds = new Map();
    const started = performance.now();
    const instance = autocannon({
      url: `${server.url}/mcp`,
      method: 'POST',
      connections: CONNECTIONS,
      duration: BEFORE + OUTAGE + AFTER,
      timeout: 10,
      headers: {
        authorization: `Bearer ${access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: TOOLS_LIST_BODY,
    });
    instance.on('response', (_client, statusCode) => {
      const second = Math.floor((performance.now() - started) / 1000);
      const bucket = seconds.get(second) ?? {};
      bucket[statusCode] = (bucket[statusCode] ?? 0) + 1;
      seconds.set(second, bucket);
    });
    let killedAt;
    let restartedAt;
    const chaos = (async () => {
      await sleep(BEFORE * 1000);
      killedAt = performance.now() - started;
      await redis.kill('SIGKILL');
      await sleep(OUTAGE * 1000);
      await redis.restart();
      restartedAt = performance.now() - started;
    })();
    const result = await instance;
    await chaos;
    const timeline = [...seconds.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, counts]) => ({ s, ...counts }));
    const phase = (from, to) => {
      const rows = timeline.filter((r) => r.s >= from && r.s < to);
      const sum = (key) => rows.reduce((n, r) => n + (r[key] ?? 0), 0);
      return {
        seconds: rows.length,
        ok200PerS: Math.round(sum('200') / rows.length),
        s503PerS: Math.round(sum('503') / rows.length),
      };
    };
    const figures = {
      connections: CONNECTIONS,
      durationS: BEFORE + OUTAGE + AFTER,
      killedAtS: Number((killedAt / 1000).toFixed(2)),
      redisBackAtS: Number((restartedAt / 1000).toFixed(2)),
      requests: result.requests.total,
      avgReqPerS: Math.round(result.requests.average),
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      '5xx': result['5xx'],
      beforeKill: phase(1, BEFORE),
      duringOutage: phase(BEFORE + 1, BEFORE + OUTAGE),
      afterRecovery: phase(BEFORE + OUTAGE + 2, BEFORE + OUTAGE + AFTER),
      serverSurvived: !server.process.hasExited(),
      perSecond: timeline,
    };
    recordFigures('soak-redis-outage-autocannon', figures);
    return figures;
  } finally {
    await server.stop();
    await emulator.stop();
    await redis.stop();
  }
}

const timeline = await autocannonTimeline();
const scenario = await runRedisOutage({
  loadConcurrency: CONNECTIONS,
  loginConcurrency: 8,
  beforeKillMs: BEFORE * 1000,
  outageMs: OUTAGE * 1000,
  afterRestartMs: AFTER * 1000,
  maxRequests: 2_000_000,
});
const figures = outageFigures(scenario);
recordFigures('soak-redis-outage', { ...figures, loginFailures: scenario.loginFailures });
const failed =
  !timeline.serverSurvived ||
  figures.answered500 > 0 ||
  figures.forged200 > 0 ||
  figures.noAnswer > 0 ||
  figures.tokensLost > 0 ||
  !(figures.recoveryMsAfterRedisUp < 2000);
console.log(failed ? 'SOAK FAILED' : 'soak ok');
process.exit(failed ? 1 : 0);
