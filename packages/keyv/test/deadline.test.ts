import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CommandDeadlines, CommandTimeoutError } from '../src/redis/deadline.js';
import { sleep } from './support/temp.js';

class Mapped extends Error {
  constructor(
    readonly operation: string,
    readonly original: unknown,
  ) {
    super(`${operation}: ${String(original)}`);
  }
}

const deadlines = (ms: number) =>
  new CommandDeadlines(ms, (operation, error) => new Mapped(operation, error));
const never = <T>() => new Promise<T>(() => undefined);

/**
 * Resolves how long the promise `issue` returns took to reject, and the error. A thunk, so the clock
 * starts before the command is tracked: `rejection(d.track(...))` would stamp the command first and
 * measure a hair under its deadline (seen in CI: 99.9998 ms for a 100 ms deadline).
 */
async function rejection(issue: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  const error = await issue().then(
    () => new Error('resolved instead of rejecting'),
    (e: unknown) => e,
  );
  return { ms: performance.now() - started, error };
}

describe('CommandDeadlines (one timer for every pending command)', () => {
  it('passes answers through and maps failures with the operation name', async () => {
    const d = deadlines(1000);
    await expect(d.track('get', Promise.resolve('v'))).resolves.toBe('v');
    const failed = await rejection(() => d.track('set', Promise.reject(new Error('boom'))));
    expect(failed.error).toBeInstanceOf(Mapped);
    expect((failed.error as Mapped).operation).toBe('set');
    expect((failed.error as Mapped).original).toEqual(new Error('boom'));
    expect(d.pending).toBe(0);
  });

  it('rejects a command that never answers at its deadline, never before', async () => {
    const d = deadlines(200);
    const { ms, error } = await rejection(() => d.track('get', never()));
    expect(error).toBeInstanceOf(Mapped);
    expect((error as Mapped).original).toBeInstanceOf(CommandTimeoutError);
    expect(ms).toBeGreaterThanOrEqual(200);
    expect(ms).toBeLessThan(2000);
    expect(d.pending).toBe(0);
  });

  it('gives each command its own deadline: a later command is not swept with an earlier one', async () => {
    const d = deadlines(300);
    const first = rejection(() => d.track('get', never()));
    await sleep(150);
    const second = rejection(() => d.track('get', never()));
    const answered = d.track(
      'get',
      sleep(50).then(() => 'ok'),
    );
    await expect(answered).resolves.toBe('ok');
    const [a, b] = await Promise.all([first, second]);
    expect(a.ms).toBeGreaterThanOrEqual(300);
    expect(b.ms).toBeGreaterThanOrEqual(300); // measured from its own start, 150 ms after the first
    expect(a.ms).toBeLessThan(2000);
    expect(b.ms).toBeLessThan(2000);
    expect(d.pending).toBe(0);
  });

  it('still enforces deadlines after going idle (the timer re-arms on the next command)', async () => {
    const d = deadlines(100);
    await d.track('get', Promise.resolve(1));
    await sleep(250); // the timer fired with nothing pending and stopped
    const { ms, error } = await rejection(() => d.track('get', never()));
    expect((error as Mapped).original).toBeInstanceOf(CommandTimeoutError);
    expect(ms).toBeGreaterThanOrEqual(100);
    expect(ms).toBeLessThan(2000);
  });

  it('ignores a late answer and handles a late failure after the deadline fired', async () => {
    const d = deadlines(50);
    let fail!: (e: Error) => void;
    let succeed!: (v: string) => void;
    const late = rejection(() => d.track('a', new Promise<string>((_, reject) => (fail = reject))));
    const lateOk = rejection(() => d.track('b', new Promise<string>((resolve) => (succeed = resolve))));
    const [a, b] = await Promise.all([late, lateOk]);
    expect((a.error as Mapped).original).toBeInstanceOf(CommandTimeoutError);
    expect((b.error as Mapped).original).toBeInstanceOf(CommandTimeoutError);
    // Settling afterwards must neither throw nor surface as an unhandled rejection (vitest fails on those).
    fail(new Error('late'));
    succeed('late');
    await sleep(20);
    expect(d.pending).toBe(0);
  });

  it('keeps thousands of concurrent commands in order and drops each answered one at once', async () => {
    const d = deadlines(5000);
    const gates: Array<() => void> = [];
    const calls = Array.from({ length: 5000 }, (_, i) =>
      d.track(
        'get',
        new Promise<number>((resolve) => {
          gates.push(() => resolve(i));
        }),
      ),
    );
    expect(d.pending).toBe(5000);
    // Answer out of order: odd ones first, then even ones.
    for (let i = 1; i < gates.length; i += 2) gates[i]!();
    await Promise.resolve();
    for (let i = 0; i < gates.length; i += 2) gates[i]!();
    const values = await Promise.all(calls);
    expect(values).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(d.pending).toBe(0);
  });

  it('an answer that arrived while the event loop was busy past the deadline is not a timeout', async () => {
    // A real loopback socket to an echo server in another process (as Redis is): the answer is in
    // the kernel buffer before the deadline, but this process only reads it after a synchronous
    // stretch longer than the deadline.
    const echo = spawn(
      process.execPath,
      [
        '-e',
        "const s = require('node:net').createServer((p) => p.on('data', (d) => p.write(d))); s.listen(0, '127.0.0.1', () => console.log(s.address().port)); process.stdin.on('end', () => process.exit(0)); process.stdin.resume();",
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const port = Number(
      await new Promise<string>((resolve) => echo.stdout.once('data', (d) => resolve(String(d)))),
    );
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      const d = deadlines(100);
      const answer = d.track(
        'get',
        new Promise<string>((resolve) => socket.once('data', (data) => resolve(data.toString()))),
      );
      socket.write('pong');
      const busyUntil = performance.now() + 400;
      while (performance.now() < busyUntil) {
        // the event loop is blocked, as while a large batch is being encoded
      }
      await expect(answer).resolves.toBe('pong');
      // A command that really gets no answer still times out.
      const lost = await rejection(() => d.track('get', never()));
      expect((lost.error as Mapped).original).toBeInstanceOf(CommandTimeoutError);
    } finally {
      socket.destroy();
      echo.stdin.end();
    }
  });
});
