/**
 * Scenario 2: the server SIGKILLed in the middle of a burst of complete logins (login form + code
 * exchange) on SQLite, three times. After each crash the file passes `PRAGMA integrity_check`
 * (opened read-only); after restarting on the same file every token whose 200 was received
 * validates on `/mcp`.
 */
import { describe, expect, it } from 'vitest';
import { recordFigures } from '../src/figures.js';
import { runServerCrashes } from '../src/scenarios/server-crash.js';

describe('server SIGKILLed during a login burst (SQLite)', () => {
  it('loses no acknowledged token and leaves a sound file', async () => {
    const result = await runServerCrashes({
      rounds: 3,
      concurrency: 12,
      killAfterTokens: 25,
      minBurstMs: 1500,
    });
    const lost = result.afterCheck.checked - result.afterCheck.valid;
    recordFigures('server-crash', {
      rounds: result.rounds.map((r) => ({
        acknowledged: r.acknowledged,
        failures: r.failures,
        integrity: r.afterKill.integrity.join('; '),
        journalMode: r.afterKill.journalMode,
        kvRows: r.afterKill.kvRows,
        restartMs: Math.round(r.restartMs),
      })),
      tokensAcknowledged: result.acknowledged.length,
      tokensLost: lost,
      finalIntegrity: result.final.integrity.join('; '),
    });

    expect(result.rounds).toHaveLength(3);
    for (const round of result.rounds) {
      expect(round.acknowledged).toBeGreaterThanOrEqual(25);
      // Flows cut by the kill fail on the network; nothing else failed.
      expect(Object.keys(round.failures).filter((k) => k !== 'flow:network')).toEqual([]);
      expect(round.afterKill.integrity).toEqual(['ok']);
      expect(round.afterKill.journalMode).toBe('wal');
    }
    expect(result.afterCheck.checked).toBe(result.acknowledged.length);
    expect(result.afterCheck.rejected).toEqual({});
    expect(lost).toBe(0);
    expect(result.final.integrity).toEqual(['ok']);
  });
});
