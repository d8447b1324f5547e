#!/usr/bin/env node
// Longer run of scenario 6: two instances on one Redis with the L1 on.
//  - SOAK_REVOCATIONS (200) revocations through B, A polled every 5 ms until 401;
//  - SOAK_RACES (200) refreshes of one refresh token through A and B at the same moment;
//  - the same revocation trial on one shared SQLite file (no change feed: L1 staleness bound).
// Build first: pnpm --filter @oauth-cache/reliability... build
import {
  percentile,
  recordFigures,
  refreshRaceTrial,
  revocationTrial,
  startScaleOut,
} from '../dist/index.js';

const REVOCATIONS = Number(process.env.SOAK_REVOCATIONS ?? 200);
const RACES = Number(process.env.SOAK_RACES ?? 200);
const round = (v) => Number(v.toFixed(1));

const redis = await startScaleOut({ l1Max: 10_000 });
let failed = false;
try {
  const revocations = [];
  for (let i = 0; i < REVOCATIONS; i++) revocations.push(await revocationTrial(redis));
  const ms = revocations.map((t) => t.propagationMs);
  const revocationFigures = {
    trials: revocations.length,
    p50Ms: round(percentile(ms, 50)),
    p95Ms: round(percentile(ms, 95)),
    p99Ms: round(percentile(ms, 99)),
    maxMs: round(Math.max(...ms)),
    over100Ms: ms.filter((v) => v >= 100).length,
    trialsWithStaleAccepts: revocations.filter((t) => t.staleAccepts > 0).length,
    acceptedAfter100Ms: revocations.filter((t) => t.lastAcceptSentMs >= 100).length,
  };
  recordFigures('soak-revocation-propagation', revocationFigures);

  const races = [];
  for (let i = 0; i < RACES; i++) races.push(await refreshRaceTrial(redis, i % 2 === 1));
  const raceFigures = {
    races: races.length,
    exactlyOneWinner: races.filter((t) => t.statuses.filter((s) => s === 200).length === 1).length,
    bothWon: races.filter((t) => t.statuses.every((s) => s === 200)).length,
    noneWon: races.filter((t) => t.statuses.every((s) => s !== 200)).length,
    winsByA: races.filter((t) => t.statuses[0] === 200 && t.statuses[1] !== 200).length,
    winsByB: races.filter((t) => t.statuses[1] === 200 && t.statuses[0] !== 200).length,
    loserErrors: [...new Set(races.flatMap((t) => (t.loserError ? [t.loserError] : [])))],
    exactlyOneWorkingPair: races.filter((t) => t.workingPairs === 1).length,
    familyIntact: races.filter((t) => t.winnerAccessWorks && t.winnerRefreshWorks).length,
  };
  recordFigures('soak-refresh-race', raceFigures);
  failed =
    revocationFigures.acceptedAfter100Ms > 0 ||
    // Both 200 is allowed (a duplicate after the first rotation issued is a retry, RFC 9700
    // §4.14.2); two working pairs never are.
    raceFigures.exactlyOneWorkingPair !== races.length ||
    raceFigures.familyIntact !== races.length;
} finally {
  await redis.stop();
}

const sqlite = await startScaleOut({ store: 'sqlite', l1Max: 10_000, l1MaxStaleMs: 1000 });
try {
  const trials = [];
  for (let i = 0; i < 10; i++) trials.push(await revocationTrial(sqlite));
  const ms = trials.map((t) => t.propagationMs);
  recordFigures('soak-revocation-propagation-sqlite-l1', {
    trials: trials.length,
    maxStaleMs: 1000,
    p50Ms: round(percentile(ms, 50)),
    maxMs: round(Math.max(...ms)),
    staleAcceptsTotal: trials.reduce((n, t) => n + t.staleAccepts, 0),
  });
} finally {
  await sqlite.stop();
}
console.log(failed ? 'SOAK FAILED' : 'soak ok');
process.exit(failed ? 1 : 0);
