import { describe, expect, it } from 'vitest';
import { formatDuration, formatProgress } from '../src/cli/progress.js';
import { parseRecordLine } from '../src/jsonl/jsonl-record.js';
import { parseSource } from '../src/migrate/source.js';
import { HandOff } from '../src/util/hand-off.js';
import { TaskPool } from '../src/util/task-pool.js';

describe('TaskPool', () => {
  it('forEach never exceeds the limit and stops starting work after a failure', async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    await expect(
      TaskPool.forEach([...Array(50).keys()], 4, async (i) => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        if (i === 10) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(peak).toBe(4);
    expect(running).toBe(0);
    expect(started.length).toBeLessThan(20);
  });

  it('bounds tasks, waits for all on drain and rethrows the first failure', async () => {
    const pool = new TaskPool(2);
    let running = 0;
    let peak = 0;
    const task = (fail: boolean) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (fail) throw new Error('task failed');
    };
    await pool.add(task(false));
    await pool.add(task(true));
    await pool.add(task(false));
    await expect(pool.add(task(false))).rejects.toThrow('task failed');
    await expect(pool.drain()).rejects.toThrow('task failed');
    expect(peak).toBe(2);
    expect(running).toBe(0);
  });
});

describe('parseRecordLine', () => {
  it('accepts an export line and names what is wrong otherwise, without quoting the line', () => {
    expect(parseRecordLine('{"key":"at:x","value":{"v":1},"expiresAt":1893456000000}')).toEqual({
      ok: true,
      record: { key: 'at:x', value: { v: 1 }, expiresAt: 1893456000000 },
    });
    const bad = parseRecordLine('{"key":"at:x","value":"secret-password-1","expiresAt":1.5} trailing');
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).not.toContain('secret-password-1');
    expect(parseRecordLine('{"key":"","value":1,"expiresAt":"soon"}')).toEqual({
      ok: false,
      reason: 'key: expected a non-empty string; expiresAt: expected epoch milliseconds (a positive integer)',
    });
  });
});

describe('parseSource', () => {
  it('knows legacy-json:, jsonl: and store URLs', () => {
    expect(parseSource('legacy-json:/tmp/d.json')).toMatchObject({ kind: 'legacy', path: '/tmp/d.json' });
    expect(parseSource('jsonl:rel/e.jsonl')).toMatchObject({ kind: 'jsonl', path: 'rel/e.jsonl' });
    expect(parseSource('redis://u:pw@h:6379/1')).toEqual({
      kind: 'store',
      url: 'redis://u:pw@h:6379/1',
      label: 'redis://u:***@h:6379/1',
    });
    expect(() => parseSource('legacy-json:')).toThrow(/needs a file path/);
    expect(() => parseSource('memory://')).toThrow(/cannot be a source/);
  });
});

describe('progress text', () => {
  it('shows percent, count, rate and ETA when the total is known', () => {
    expect(formatProgress('migrate', 250, 1000, 1000, 2000)).toBe(
      'migrate [######------------------]  25% 1,000 entries 500/s ETA 0:06',
    );
    expect(formatProgress('migrate', 0, 12, undefined, 4000, 'records')).toBe('migrate 12 records 3/s');
  });

  it('formats durations', () => {
    expect(formatDuration(5)).toBe('0:05');
    expect(formatDuration(3725)).toBe('1:02:05');
  });
});

describe('HandOff', () => {
  it('starts each operation once the one before has run its microtasks, and lets them complete concurrently', async () => {
    const handOff = new HandOff();
    const events: string[] = [];
    let finishFirst!: () => void;
    const first = handOff.run(async () => {
      events.push('start 1');
      await Promise.resolve(); // the store's preparation: microtasks, then the send
      events.push('sent 1');
      await new Promise<void>((resolve) => {
        finishFirst = resolve;
      });
      events.push('done 1');
      return 1;
    });
    const second = handOff.run(async () => {
      events.push('start 2');
      return 2;
    });
    expect(await second).toBe(2);
    // The second started after the first was sent, before the first completed.
    expect(events).toEqual(['start 1', 'sent 1', 'start 2']);
    finishFirst();
    expect(await first).toBe(1);
    expect(events).toEqual(['start 1', 'sent 1', 'start 2', 'done 1']);
  });

  it('lets the next operation start after one that throws or rejects', async () => {
    const handOff = new HandOff();
    await expect(
      handOff.run(() => {
        throw new Error('refused before sending');
      }),
    ).rejects.toThrow('refused before sending');
    await expect(handOff.run(() => Promise.reject(new Error('store failed')))).rejects.toThrow(
      'store failed',
    );
    expect(await handOff.run(async () => 'next')).toBe('next');
  });
});
