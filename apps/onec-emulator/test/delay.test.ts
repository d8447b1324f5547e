/** `delayMs`: a slow 1C. `/rpc` calls are held (and counted while held), `/health` never is. */
import { afterEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';
import { basic, postRpc } from './helpers.js';

const emulators: Emulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

async function slow(delayMs: number): Promise<Emulator> {
  const emulator = await startEmulator({ delayMs });
  emulators.push(emulator);
  return emulator;
}

async function waitForDelayed(emulator: Emulator, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (emulator.delayed < count) {
    if (Date.now() > deadline) throw new Error(`only ${emulator.delayed} of ${count} calls held`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('delayMs', () => {
  it('holds /rpc calls and counts them; /health answers meanwhile; the calls then get their answers', async () => {
    const emulator = await slow(1500);
    const started = performance.now();
    const calls = [1, 2, 3].map((id) =>
      postRpc(
        emulator,
        JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: `t${id}` } },
        }),
      ),
    );
    await waitForDelayed(emulator, 3);
    const listed = (await (await fetch(`${emulator.url}/__emulator/calls`)).json()) as { delayed: number };
    expect(listed.delayed).toBe(3);
    // The login check is not delayed: it answers while the three calls are still held.
    const health = await fetch(`${emulator.serviceUrl}/health`, {
      headers: { authorization: basic('demo', 'demo') },
    });
    expect(health.status).toBe(200);
    expect(emulator.delayed).toBe(3);

    const answers = await Promise.all(calls);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1490);
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(JSON.stringify(await answer.json())).toContain(`t${i + 1}`);
    }
    expect(emulator.delayed).toBe(0);
    expect(emulator.calls.filter((c) => c.endpoint === 'rpc')).toHaveLength(3);
  });

  it('401 is not delayed, and close() drops held calls instead of waiting for them', async () => {
    const emulator = await slow(60_000);
    const refused = await postRpc(
      emulator,
      '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      basic('demo', 'nope'),
    );
    expect(refused.status).toBe(401);
    expect(emulator.delayed).toBe(0);
    const held = postRpc(emulator, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}').then(
      () => 'answered',
      () => 'cut',
    );
    await waitForDelayed(emulator, 1);
    await emulators.splice(0)[0]?.close();
    expect(emulator.delayed).toBe(0);
    expect(await held).toBe('cut');
  });

  it('refuses a delay that is not whole milliseconds from 0 to 600000', async () => {
    for (const bad of [-1, 1.5, 600_001, Number.NaN]) {
      await expect(startEmulator({ delayMs: bad })).rejects.toThrow(
        /^delayMs: expected a whole number of ms from 0 to 600000/,
      );
    }
  });
});
