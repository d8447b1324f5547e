/**
 * Front-door hardening over real sockets: a body dripping in (one byte every second) is cut off
 * with 408 after 10 s on every small endpoint, the connection cap drops connections beyond
 * MCP_MAX_CONNECTIONS, registrations are limited per IPv6 /64, and a production server guards
 * /cache/status and /metrics with its token.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyTimeoutMs, MIN_BODY_TIMEOUT_MS } from '../src/http/body.js';
import { type Harness, startHarness } from './support/harness.js';

/** What a raw socket received until the server closed it (or `waitMs` passed), and when. */
interface SocketOutcome {
  text: string;
  closedAfterMs: number | undefined;
}

function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * POST `path` declaring a 200-byte body, then send one byte per second: the server must answer
 * before the body is complete (the drip would take 200 s).
 */
async function dripBody(
  url: string,
  path: string,
  contentType: string,
  waitMs: number,
): Promise<SocketOutcome> {
  const socket = await openSocket(url);
  const started = Date.now();
  const chunks: Buffer[] = [];
  let closedAfterMs: number | undefined;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closedAfterMs = Date.now() - started;
      resolve();
    }),
  );
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Type: ${contentType}\r\nContent-Length: 200\r\n\r\n`,
  );
  const drip = setInterval(() => {
    if (!socket.destroyed) socket.write('a');
  }, 1000);
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, waitMs))]);
  clearInterval(drip);
  socket.destroy();
  return { text: Buffer.concat(chunks).toString('utf8'), closedAfterMs };
}

describe('slow request bodies', () => {
  it('get 10 s for a small body, 64 KiB/s for a large one', () => {
    expect(MIN_BODY_TIMEOUT_MS).toBe(10_000);
    expect(bodyTimeoutMs(16 * 1024)).toBe(10_000);
    expect(bodyTimeoutMs(4 * 1024 * 1024)).toBe(64_000);
  });

  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answer 408 and close the connection after 10 s on /token, /revoke, /register and the login form', async () => {
    const form = 'application/x-www-form-urlencoded';
    const outcomes = await Promise.all([
      dripBody(h.server.url, '/token', form, 30_000),
      dripBody(h.server.url, '/revoke', form, 30_000),
      dripBody(h.server.url, '/register', 'application/json', 30_000),
      dripBody(h.server.url, '/authorize', form, 30_000),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(outcome.text.toLowerCase()).toContain('connection: close');
      // Closed by the server, about 10 s in: far before the 200 s the drip would take.
      expect(outcome.closedAfterMs).toBeDefined();
      expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(9_000);
      expect(outcome.closedAfterMs).toBeLessThan(25_000);
    }
    const [token, , register] = outcomes;
    expect(token?.text).toContain('"error":"invalid_request"');
    expect(token?.text).toContain('did not arrive within 10 seconds');
    expect(register?.text).toContain('"error":"invalid_request"');
    // The server still answers afterwards.
    expect((await fetch(`${h.server.url}/health`)).status).toBe(200);
  });
});

describe('connection cap (MCP_MAX_CONNECTIONS)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { MCP_MAX_CONNECTIONS: '3' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('drops connections beyond the cap, and accepts again once one is closed', async () => {
    const held = await Promise.all([
      openSocket(h.server.url),
      openSocket(h.server.url),
      openSocket(h.server.url),
    ]);
    // Let the server register the three before the fourth arrives.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const extra = await openSocket(h.server.url);
    extra.on('error', () => undefined);
    const extraClosed = await new Promise<boolean>((resolve) => {
      extra.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 10_000);
      extra.write(`GET /health HTTP/1.1\r\nHost: ${new URL(h.server.url).host}\r\n\r\n`);
    });
    expect(extraClosed).toBe(true);
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const health = await fetch(`${h.server.url}/health`);
    expect(health.status).toBe(200);
  });
});

describe('registration limit behind a proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { MCP_TRUST_PROXY: 'true', MCP_REGISTER_MAX_PER_HOUR: '2' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('counts an IPv6 /64 as one address', async () => {
    const register = async (from: string) =>
      (
        await fetch(`${h.server.url}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
          body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:40000/cb'] }),
        })
      ).status;
    expect(await register('2001:db8:9:9::1')).toBe(201);
    expect(await register('2001:db8:9:9::2')).toBe(201);
    // A third address of the same /64 is the same client.
    expect(await register('2001:db8:9:9:ffff:1:2:3')).toBe(429);
    expect(await register('2001:db8:9:a::1')).toBe(201);
  });
});

describe('production', () => {
  let h: Harness;
  const token = 'status-token-for-tests-0123456789';
  beforeAll(async () => {
    h = await startHarness({ env: { ENVIRONMENT: 'production', OAUTH_CACHE_STATUS_TOKEN: token } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('/cache/status and /metrics answer 401 without the status token and 200 with it', async () => {
    for (const path of ['/cache/status', '/metrics']) {
      expect((await fetch(`${h.server.url}${path}`)).status).toBe(401);
      expect(
        (
          await fetch(`${h.server.url}${path}`, {
            headers: { authorization: 'Bearer wrong-token-0123456789' },
          })
        ).status,
      ).toBe(401);
      const ok = await fetch(`${h.server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
    }
  });
});
