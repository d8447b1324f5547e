import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pingRedis, startRedisServer } from '../src/testing/index.js';

describe('startRedisServer', () => {
  it('fails loudly with the install hint when redis-server is missing', async () => {
    await expect(startRedisServer({ binary: '/nonexistent/redis-server' })).rejects.toThrow(
      'redis-server not found: apt-get install -y redis-server',
    );
  });

  it('starts on a free loopback port, survives kill + restart on the same port, stop removes its dir', async () => {
    const server = await startRedisServer();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await pingRedis(server.port)).toBe(true);
    await server.kill();
    expect(await pingRedis(server.port)).toBe(false);
    await server.restart();
    expect(await pingRedis(server.port)).toBe(true);
    await server.stop();
    expect(await pingRedis(server.port)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    await expect(server.restart()).rejects.toThrow(/was stopped/);
  });

  it('two servers at once get different ports', async () => {
    const [a, b] = await Promise.all([startRedisServer(), startRedisServer()]);
    expect(a.port).not.toBe(b.port);
    await Promise.all([a.stop(), b.stop()]);
  });
});
