import type { TokenCache } from '@oauth-cache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBearer } from '../src/index.js';
import { newCache } from './support/cache.js';

describe('verifyBearer (runtime-neutral)', () => {
  let cache: TokenCache;
  beforeAll(async () => {
    cache = newCache();
    await cache.storeToken({
      userId: 'neutral',
      accessToken: 'neutral-token',
      scopes: ['a', 'b'],
      resource: 'https://rs.example/mcp',
      clientId: 'client-1',
    });
  });
  afterAll(() => cache.close());

  it('authorizes with the full validation', async () => {
    const outcome = await verifyBearer('Bearer neutral-token', cache, {
      requiredScopes: ['a'],
      resource: 'https://rs.example/mcp',
    });
    expect(outcome).toMatchObject({
      kind: 'authorized',
      auth: {
        valid: true,
        userId: 'neutral',
        clientId: 'client-1',
        scopes: ['a', 'b'],
        resource: 'https://rs.example/mcp',
      },
    });
  });

  it('classifies every refusal', async () => {
    expect(await verifyBearer(undefined, cache)).toEqual({ kind: 'missing' });
    expect((await verifyBearer('Token x', cache)).kind).toBe('invalid_request');
    expect((await verifyBearer('Bearer unknown', cache)).kind).toBe('invalid_token');
    expect(
      (await verifyBearer('Bearer neutral-token', cache, { resource: 'https://rs.example/other' })).kind,
    ).toBe('invalid_token');
    expect(await verifyBearer('Bearer neutral-token', cache, { requiredScopes: ['a', 'c'] })).toEqual({
      kind: 'insufficient_scope',
      description: 'The access token lacks a required scope',
      scope: 'a c',
    });
  });

  it('rethrows errors that are neither store-unavailable nor invalid input (bugs stay visible)', async () => {
    const broken = { validateAccessToken: () => Promise.reject(new TypeError('bug in a custom validator')) };
    await expect(verifyBearer('Bearer x', broken)).rejects.toThrow(TypeError);
  });
});
