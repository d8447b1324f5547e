import { Agent, request as httpRequest } from 'node:http';
import type { TokenCache } from '@oauth-cache/core';
import fc from 'fast-check';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerAuth, oauthErrorHandler } from '../src/index.js';
import { newCache } from './support/cache.js';
import { listen, type RunningApp } from './support/http.js';

/** Characters node:http lets a client put in a header value (HTAB, visible ASCII, obs-text). */
const headerChar = fc.oneof(
  fc.constantFrom('\t', ' ', '=', '"', '\\', ',', '+', '/', '-', '.', '_', '~'),
  fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
  fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code)),
);
const headerValue = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 80 }),
  fc.string({ unit: headerChar, maxLength: 80 }).map((rest) => `Bearer ${rest}`),
  fc.string({ unit: headerChar, maxLength: 80 }).map((rest) => `bearer  ${rest}`),
  fc.constantFrom('Bearer valid-fuzz-token', 'Bearer', 'Bearer ', 'Basic ZGVtbzpkZW1v'),
  fc.integer({ min: 4000, max: 6000 }).map((length) => `Bearer ${'a'.repeat(length)}`),
);

describe('arbitrary Authorization headers', () => {
  let cache: TokenCache;
  let app: RunningApp;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  beforeAll(async () => {
    cache = newCache();
    await cache.storeToken({ userId: 'fuzz', accessToken: 'valid-fuzz-token' });
    const koa = new Koa();
    koa.use(oauthErrorHandler());
    koa.use(
      bearerAuth({ cache, resourceMetadataUrl: 'https://rs.example/.well-known/oauth-protected-resource' }),
    );
    koa.use((ctx) => {
      ctx.body = { ok: true };
    });
    app = await listen(koa);
  });
  afterAll(async () => {
    agent.destroy();
    await app.close();
    await cache.close();
  });

  function send(authorization: string): Promise<{ status: number; challenge: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${app.url}/protected`, { agent, headers: { authorization } }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('never yield a 5xx, and every refusal carries a well-formed challenge', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(headerValue, async (authorization) => {
        const { status, challenge } = await send(authorization);
        seen.add(status);
        expect([200, 400, 401]).toContain(status);
        if (status !== 200) {
          expect(challenge).toMatch(
            /^Bearer( [a-z_]+="(?:[^"\\\r\n]|\\.)*"(, [a-z_]+="(?:[^"\\\r\n]|\\.)*")*)?$/,
          );
        }
      }),
      { numRuns: 300 },
    );
    // The generator reaches every branch: accepted, malformed and unknown tokens.
    expect([...seen].sort()).toEqual([200, 400, 401]);
  }, 120_000);
});
