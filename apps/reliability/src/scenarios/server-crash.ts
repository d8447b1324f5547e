/**
 * Scenario 2: the server SIGKILLed in the middle of a burst of complete logins on SQLite, several
 * times over. After each crash the file is opened read-only and `PRAGMA integrity_check`ed; the
 * server is restarted on the same file and port; at the end every token whose 200 was received, in
 * any round, must still validate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@oauth-cache/keyv/testing';
import { loadUsers, startEmulatorProcess } from '../emulator-process.js';
import { sleep } from '../load.js';
import { type AcknowledgedToken, runLoginBurst } from '../login-burst.js';
import { registerClient } from '../oauth-flow.js';
import { newSecrets, type ServerProcess, serverEnv, startServerProcess } from '../server-process.js';
import { checkSqliteFile, type IntegrityReport } from '../sqlite-check.js';
import { checkAccessTokens, type TokenCheckResult } from '../token-check.js';

/** Options of {@link runServerCrashes}. */
export interface ServerCrashOptions {
  rounds: number;
  /** Parallel users logging in. */
  concurrency: number;
  /** Kill once this many tokens were acknowledged in the round (and at least `minBurstMs` passed). */
  killAfterTokens: number;
  minBurstMs: number;
}

/** One crash round. */
export interface CrashRound {
  acknowledged: number;
  /** Login flows that failed in the round, by `step:status` (the kill shows as `flow:network`). */
  failures: Record<string, number>;
  /** The file right after the kill. */
  afterKill: IntegrityReport;
  /** ms from start of the process to serving again (restart on the crashed file). */
  restartMs: number;
}

/** Everything the scenario saw. */
export interface ServerCrashResult {
  rounds: CrashRound[];
  acknowledged: AcknowledgedToken[];
  /** All acknowledged tokens, checked on the last restart. */
  afterCheck: TokenCheckResult;
  /** The file after the final graceful stop. */
  final: IntegrityReport;
}

/** Run the scenario; everything started is stopped (and the temp folder removed) before returning. */
export async function runServerCrashes(options: ServerCrashOptions): Promise<ServerCrashResult> {
  const dir = await mkdtemp(join(tmpdir(), 'oc-rel-crash-'));
  const file = join(dir, 'oauth-cache.sqlite');
  const emulator = await startEmulatorProcess(loadUsers(options.concurrency));
  const port = await freePort();
  const env = serverEnv({
    onecUrl: emulator.url,
    store: `sqlite://${file}`,
    secrets: newSecrets(),
    publicUrl: `http://127.0.0.1:${port}`,
  });
  const rounds: CrashRound[] = [];
  const acknowledged: AcknowledgedToken[] = [];
  let server: ServerProcess | undefined;
  try {
    let started = performance.now();
    server = await startServerProcess(env, { port });
    let restartMs = performance.now() - started;
    const clientId = await registerClient(server.url);
    for (let round = 0; round < options.rounds; round++) {
      const stop = new AbortController();
      const before = acknowledged.length;
      const burstStarted = performance.now();
      const base = server.url;
      const burst = runLoginBurst({
        base,
        clientId,
        concurrency: options.concurrency,
        maxLogins: 100_000,
        maxDurationMs: 60_000,
        signal: stop.signal,
        onToken: (token) => acknowledged.push(token),
      });
      while (
        (acknowledged.length - before < options.killAfterTokens ||
          performance.now() - burstStarted < options.minBurstMs) &&
        performance.now() - burstStarted < 30_000
      ) {
        await sleep(5);
      }
      await server.kill();
      // Let the workers see the dead socket, then stop them.
      await sleep(150);
      stop.abort();
      const result = await burst;
      const afterKill = await checkSqliteFile(file);
      rounds.push({
        acknowledged: result.acknowledged.length,
        failures: result.failures,
        afterKill,
        restartMs,
      });
      started = performance.now();
      server = await startServerProcess(env, { port });
      restartMs = performance.now() - started;
    }
    const afterCheck = await checkAccessTokens(
      server.url,
      acknowledged.map((t) => t.tokens.access_token),
    );
    await server.stop();
    const final = await checkSqliteFile(file);
    return { rounds, acknowledged, afterCheck, final };
  } finally {
    await server?.kill();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
