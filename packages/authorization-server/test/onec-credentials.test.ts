import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Emulator, startEmulator } from '@oauth-cache/onec-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuthorization, checkOneCCredentials } from '../src/index.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emulator.close();
});

/** A real HTTP server answering every request with `status` (or never, for `hang`). */
async function fakeUpstream(behaviour: number | 'hang'): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    if (behaviour === 'hang') return;
    res.writeHead(behaviour).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hs/mcp`, server };
}

describe('checkOneCCredentials against the 1C emulator', () => {
  it('ok for valid users, including UTF-8 passwords', async () => {
    expect(await checkOneCCredentials(emulator.serviceUrl, 'demo', 'demo')).toBe('ok');
    expect(await checkOneCCredentials(emulator.serviceUrl, 'ivanov', 'Пароль123')).toBe('ok');
    const health = emulator.calls.filter((c) => c.endpoint === 'health' && c.authorized);
    expect(health.map((c) => c.user)).toEqual(expect.arrayContaining(['demo', 'ivanov']));
  });

  it('invalid for wrong passwords, forbidden for users without access', async () => {
    expect(await checkOneCCredentials(emulator.serviceUrl, 'demo', 'wrong')).toBe('invalid');
    expect(await checkOneCCredentials(emulator.serviceUrl, 'nobody', 'x')).toBe('invalid');
    expect(await checkOneCCredentials(emulator.serviceUrl, 'noaccess', 'noaccess')).toBe('forbidden');
  });

  it('invalid without calling 1C for logins Basic auth cannot carry', async () => {
    const before = emulator.calls.length;
    expect(await checkOneCCredentials(emulator.serviceUrl, 'a:b', 'x')).toBe('invalid');
    expect(await checkOneCCredentials(emulator.serviceUrl, 'a\nb', 'x')).toBe('invalid');
    expect(await checkOneCCredentials(emulator.serviceUrl, '', 'x')).toBe('invalid');
    expect(emulator.calls.length).toBe(before);
    expect(basicAuthorization('a:b', 'x')).toBeUndefined();
    expect(basicAuthorization('Иван', 'п')).toBe(`Basic ${Buffer.from('Иван:п', 'utf8').toString('base64')}`);
  });
});

describe('checkOneCCredentials when 1C is not healthy', () => {
  it('unavailable on 5xx and unexpected statuses, with a reason', async () => {
    for (const status of [500, 502, 503, 404]) {
      const upstream = await fakeUpstream(status);
      const reasons: string[] = [];
      expect(
        await checkOneCCredentials(upstream.url, 'demo', 'demo', { onUnavailable: (r) => reasons.push(r) }),
      ).toBe('unavailable');
      expect(reasons[0]).toContain(String(status));
      upstream.server.close();
    }
  });

  it('unavailable on timeout and on a closed port', async () => {
    const upstream = await fakeUpstream('hang');
    const reasons: string[] = [];
    expect(
      await checkOneCCredentials(upstream.url, 'demo', 'demo', {
        timeoutMs: 300,
        onUnavailable: (r) => reasons.push(r),
      }),
    ).toBe('unavailable');
    expect(reasons).toEqual(['timeout']);
    const { port } = upstream.server.address() as AddressInfo;
    upstream.server.closeAllConnections();
    await new Promise((resolve) => upstream.server.close(resolve));
    expect(await checkOneCCredentials(`http://127.0.0.1:${port}/hs/mcp`, 'demo', 'demo')).toBe('unavailable');
  });
});
