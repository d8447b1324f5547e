#!/usr/bin/env node
// Longer run of scenario 2: the server SIGKILLed SOAK_ROUNDS (10) times in the middle of a burst of
// SOAK_CONCURRENCY (16) parallel logins on one SQLite file; integrity_check after every crash; every
// acknowledged token checked at the end.
// Build first: pnpm --filter @oauth-cache/reliability... build
import { recordFigures, runServerCrashes } from '../dist/index.js';

const result = await runServerCrashes({
  rounds: Number(process.env.SOAK_ROUNDS ?? 10),
  concurrency: Number(process.env.SOAK_CONCURRENCY ?? 16),
  killAfterTokens: 40,
  minBurstMs: 2000,
});
const lost = result.afterCheck.checked - result.afterCheck.valid;
const unsound = result.rounds.filter((r) => r.afterKill.integrity.join() !== 'ok').length;
recordFigures('soak-server-crash', {
  rounds: result.rounds.length,
  tokensAcknowledged: result.acknowledged.length,
  tokensLost: lost,
  roundsWithUnsoundFile: unsound,
  restartMs: result.rounds.map((r) => Math.round(r.restartMs)),
  finalIntegrity: result.final.integrity.join('; '),
  kvRowsAfterLastKill: result.rounds.at(-1)?.afterKill.kvRows,
});
const failed = lost > 0 || unsound > 0;
console.log(failed ? 'SOAK FAILED' : 'soak ok');
process.exit(failed ? 1 : 0);
