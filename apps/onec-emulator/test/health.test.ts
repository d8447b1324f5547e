import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, NOT_1C_NOTICE, startEmulator } from '../src/index.js';
import { basic } from './helpers.js';

describe('GET /hs/mcp/health', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(() => emulator.close());

  it('listens on 127.0.0.1 with the default service root', () => {
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.serviceUrl).toBe(`${emulator.url}/hs/mcp`);
  });

  it('answers 200 {"status":"ok"} to a user with access and says it is not 1C', async () => {
    const response = await fetch(`${emulator.serviceUrl}/health`, {
      headers: { authorization: basic('demo', 'demo') },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-emulator')).toBe(NOT_1C_NOTICE);
    expect(await response.json()).toEqual({ status: 'ok', emulator: 'NOT 1C: a development emulator' });
  });

  it('accepts Cyrillic passwords (UTF-8 Basic credentials)', async () => {
    const response = await fetch(`${emulator.serviceUrl}/health`, {
      headers: { authorization: basic('ivanov', 'Пароль123') },
    });
    expect(response.status).toBe(200);
  });

  it.each([
    ['wrong password', basic('demo', 'nope')],
    ['unknown user', basic('nobody', 'demo')],
    ['wrong Cyrillic case', basic('ivanov', 'пароль123')],
    ['no colon', `Basic ${Buffer.from('demo').toString('base64')}`],
    ['not base64', 'Basic !!!'],
    ['bearer instead of basic', 'Bearer abc'],
  ])('answers 401 with a Basic challenge on %s', async (_name, authorization) => {
    const response = await fetch(`${emulator.serviceUrl}/health`, { headers: { authorization } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+", charset="UTF-8"$/);
  });

  it('answers 401 without credentials', async () => {
    const response = await fetch(`${emulator.serviceUrl}/health`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('answers 403 to a user without the right to the HTTP service', async () => {
    const response = await fetch(`${emulator.serviceUrl}/health`, {
      headers: { authorization: basic('noaccess', 'noaccess') },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it('answers 405 to POST /health and 404 elsewhere', async () => {
    const post = await fetch(`${emulator.serviceUrl}/health`, {
      method: 'POST',
      headers: { authorization: basic('demo', 'demo') },
    });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    const missing = await fetch(`${emulator.url}/hs/other/health`, {
      headers: { authorization: basic('demo', 'demo') },
    });
    expect(missing.status).toBe(404);
  });
});

describe('publication path options', () => {
  it('serves under {base}/hs/{root}', async () => {
    const emulator = await startEmulator({ basePath: 'trade/', serviceRoot: '/api/' });
    try {
      expect(emulator.serviceUrl).toBe(`${emulator.url}/trade/hs/api`);
      const ok = await fetch(`${emulator.serviceUrl}/health`, {
        headers: { authorization: basic('demo', 'demo') },
      });
      expect(ok.status).toBe(200);
      const oldPath = await fetch(`${emulator.url}/hs/mcp/health`, {
        headers: { authorization: basic('demo', 'demo') },
      });
      expect(oldPath.status).toBe(404);
    } finally {
      await emulator.close();
    }
  });

  it('rejects an empty service root', async () => {
    await expect(startEmulator({ serviceRoot: '/' })).rejects.toThrow(/serviceRoot/);
  });
});
