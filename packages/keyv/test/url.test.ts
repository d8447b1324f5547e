import { resolve } from 'node:path';
import { ConfigError } from '@oauth-cache/core';
import { describe, expect, it } from 'vitest';
import { maskUrl, parseStoreUrl } from '../src/url.js';

describe('maskUrl', () => {
  it('masks the password and keeps everything else', () => {
    expect(maskUrl('redis://app:s3cret@cache:6379/2')).toBe('redis://app:***@cache:6379/2');
    expect(maskUrl('rediss://:s3cret@cache.example:6380')).toBe('rediss://:***@cache.example:6380');
    expect(maskUrl('redis://u:p@ss:w@rd@h:1')).toBe('redis://u:***@h:1');
    expect(maskUrl('redis://cache:6379')).toBe('redis://cache:6379');
    expect(maskUrl('redis://user@cache:6379')).toBe('redis://user@cache:6379');
  });

  it('masks secret-looking query parameters and works on strings that are not URLs', () => {
    expect(maskUrl('redis://h:1?password=abc&db=2')).toBe('redis://h:1?password=***&db=2');
    expect(maskUrl('foo://x:y@z?token=t')).toBe('foo://x:***@z?token=***');
    expect(maskUrl('not a url')).toBe('not a url');
  });
});

describe('parseStoreUrl', () => {
  it('memory:// with an optional max', () => {
    expect(parseStoreUrl('memory://')).toEqual({ scheme: 'memory' });
    expect(parseStoreUrl('memory://?max=500')).toEqual({ scheme: 'memory', max: 500 });
    expect(() => parseStoreUrl('memory://?max=0')).toThrow(/max must be a whole number/);
    expect(() => parseStoreUrl('memory://?size=5')).toThrow(/unknown memory:\/\/ parameter "size"/);
  });

  it('sqlite:// absolute and relative paths', () => {
    expect(parseStoreUrl('sqlite:///var/lib/oc/cache.db')).toEqual({
      scheme: 'sqlite',
      path: '/var/lib/oc/cache.db',
    });
    expect(parseStoreUrl('sqlite://./data/cache.db', '/srv/app')).toEqual({
      scheme: 'sqlite',
      path: '/srv/app/data/cache.db',
    });
    expect(parseStoreUrl('sqlite://data/cache.db', '/srv/app')).toEqual({
      scheme: 'sqlite',
      path: '/srv/app/data/cache.db',
    });
    expect(parseStoreUrl('sqlite://../x.db', '/srv/app')).toEqual({
      scheme: 'sqlite',
      path: resolve('/srv/x.db'),
    });
    expect(parseStoreUrl('sqlite:///tmp/with%20space.db')).toEqual({
      scheme: 'sqlite',
      path: '/tmp/with space.db',
    });
    expect(parseStoreUrl('sqlite://:memory:')).toEqual({ scheme: 'sqlite', path: ':memory:' });
  });

  it('refuses unusable sqlite paths with a ConfigError naming the URL', () => {
    for (const bad of [
      'sqlite://',
      'sqlite:///',
      'sqlite:///tmp/dir/',
      'sqlite:///x.db?mode=ro',
      'sqlite:///%E0%A4%A',
    ]) {
      const error = (() => {
        try {
          parseStoreUrl(bad);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues[0]).toMatch(/^OAUTH_CACHE_STORE: /);
      expect((error as ConfigError).message).toContain('sqlite://');
    }
  });

  it('redis:// and rediss:// with credentials and db', () => {
    expect(parseStoreUrl('redis://u:p@h:6379/3')).toEqual({ scheme: 'redis', url: 'redis://u:p@h:6379/3' });
    expect(parseStoreUrl('rediss://h:6380')).toEqual({ scheme: 'redis', url: 'rediss://h:6380' });
    expect(() => parseStoreUrl('redis://:pw@h:6379/abc')).toThrow(/database must be a number/);
    expect(() => parseStoreUrl('redis://:pw@h:6379/abc')).not.toThrow(/pw/);
  });

  it('unknown schemes and empty values: ConfigError with the password masked', () => {
    expect(() => parseStoreUrl('postgres://admin:hunter2@db/x')).toThrow(ConfigError);
    try {
      parseStoreUrl('postgres://admin:hunter2@db/x');
    } catch (e) {
      expect((e as Error).message).toContain('unknown store scheme "postgres://"');
      expect((e as Error).message).toContain('postgres://admin:***@db/x');
      expect((e as Error).message).not.toContain('hunter2');
    }
    expect(() => parseStoreUrl('')).toThrow(/OAUTH_CACHE_STORE: empty/);
    expect(() => parseStoreUrl('/just/a/path')).toThrow(/unknown store scheme/);
  });
});
