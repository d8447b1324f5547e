/** Configuration from the environment: defaults, errors naming the variable, development secrets. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@oauth-cache/core';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/index.js';
import { fixedSecrets } from './support/harness.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'oc-config-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function issuesOf(env: Record<string, string>): string[] {
  try {
    loadServerConfig(env, tempDir());
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('loadServerConfig', () => {
  it('applies the upstream defaults', () => {
    const cwd = tempDir();
    const { config } = loadServerConfig({ MCP_ONEC_URL: 'http://1c.local/base/', ...fixedSecrets() }, cwd);
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8000,
      publicUrl: 'http://127.0.0.1:8000',
      onecServiceUrl: 'http://1c.local/base/hs/mcp',
      codeTtl: 120,
      accessTtl: 3600,
      refreshTtl: 1_209_600,
      storeUrl: `sqlite://${join(cwd, 'data')}/oauth-cache.sqlite`,
      logLevel: 'info',
      shutdownGraceMs: 10_000,
      trustProxy: false,
      trustedProxyHops: 1,
      statusToken: undefined,
    });
    expect(config.cache.environment).toBe('development');
    expect(config.cache.securityLevel).toBe('enhanced');
  });

  it('reads every server variable', () => {
    const { config } = loadServerConfig(
      {
        MCP_HOST: '0.0.0.0',
        MCP_PORT: '9000',
        MCP_PUBLIC_URL: 'https://mcp.example.com/',
        MCP_ONEC_URL: 'https://1c.example.com/erp',
        MCP_ONEC_SERVICE_ROOT: '/ai/',
        MCP_OAUTH2_CODE_TTL: '60',
        MCP_OAUTH2_ACCESS_TTL: '600',
        MCP_OAUTH2_REFRESH_TTL: '86400',
        OAUTH_CACHE_STORE: 'redis://cache:6379/1',
        OAUTH_CACHE_STATUS_TOKEN: 'status-token-0123456789',
        MCP_LOG_LEVEL: 'DEBUG',
        MCP_SHUTDOWN_GRACE_MS: '500',
        MCP_TRUST_PROXY: 'true',
        MCP_TRUSTED_PROXY_HOPS: '2',
        ...fixedSecrets(),
      },
      tempDir(),
    );
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      publicUrl: 'https://mcp.example.com',
      onecServiceUrl: 'https://1c.example.com/erp/hs/ai',
      codeTtl: 60,
      accessTtl: 600,
      refreshTtl: 86_400,
      storeUrl: 'redis://cache:6379/1',
      statusToken: 'status-token-0123456789',
      logLevel: 'debug',
      shutdownGraceMs: 500,
      trustProxy: true,
      trustedProxyHops: 2,
    });
  });

  it('validates MCP_TRUSTED_PROXY_HOPS (1-20) and warns when it cannot apply', () => {
    for (const bad of ['0', '21', 'two', '-1', '1.5']) {
      const text = issuesOf({
        MCP_ONEC_URL: 'http://1c',
        MCP_TRUSTED_PROXY_HOPS: bad,
        ...fixedSecrets(),
      }).join('\n');
      expect(text).toContain(`MCP_TRUSTED_PROXY_HOPS: expected a whole number from 1 to 20, got "${bad}"`);
    }
    const ignored = loadServerConfig(
      { MCP_ONEC_URL: 'http://1c', MCP_TRUSTED_PROXY_HOPS: '2', ...fixedSecrets() },
      tempDir(),
    );
    expect(ignored.warnings.join('\n')).toContain('MCP_TRUSTED_PROXY_HOPS is ignored');
  });

  it('names each bad variable', () => {
    const issues = issuesOf({
      MCP_PORT: 'eighty',
      MCP_PUBLIC_URL: 'https://mcp.example.com/some/path',
      MCP_OAUTH2_CODE_TTL: '-5',
      MCP_LOG_LEVEL: 'loud',
      MCP_AUTH_MODE: 'none',
      OAUTH_CACHE_STATUS_TOKEN: 'short',
      TOKEN_TTL: 'x',
      MCP_MAX_CONNECTIONS: '0',
      ...fixedSecrets(),
    });
    const text = issues.join('\n');
    for (const name of [
      'MCP_MAX_CONNECTIONS',
      'MCP_PORT',
      'MCP_PUBLIC_URL',
      'MCP_OAUTH2_CODE_TTL',
      'MCP_LOG_LEVEL',
      'MCP_AUTH_MODE',
      'OAUTH_CACHE_STATUS_TOKEN',
      'TOKEN_TTL',
      'MCP_ONEC_URL',
    ]) {
      expect(text).toContain(`${name}:`);
    }
  });

  it('requires secrets in production and refuses the basic security level', () => {
    const prod = issuesOf({ ENVIRONMENT: 'production', MCP_ONEC_URL: 'http://1c' }).join('\n');
    expect(prod).toContain('OAUTH_CACHE_SECRET: required');
    expect(prod).toContain('OAUTH_CACHE_ENCRYPTION_KEYS: required');
    expect(prod).toContain('OAUTH_CACHE_STATUS_TOKEN: required when ENVIRONMENT=production');
    const basic = issuesOf({ SECURITY_LEVEL: 'basic', MCP_ONEC_URL: 'http://1c', ...fixedSecrets() }).join(
      '\n',
    );
    expect(basic).toContain('SECURITY_LEVEL');
  });

  it('refuses to start in production without a status token, naming the variable; accepts one', () => {
    const base = { ENVIRONMENT: 'production', MCP_ONEC_URL: 'http://1c', ...fixedSecrets() };
    expect(() => loadServerConfig(base)).toThrow(ConfigError);
    const issues = issuesOf(base);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(
      /^OAUTH_CACHE_STATUS_TOKEN: required when ENVIRONMENT=production \(it protects \/cache\/status and \/metrics/,
    );
    const { config } = loadServerConfig({ ...base, OAUTH_CACHE_STATUS_TOKEN: 'status-token-0123456789' });
    expect(config.statusToken).toBe('status-token-0123456789');
    // Outside production it stays optional.
    expect(
      loadServerConfig({ MCP_ONEC_URL: 'http://1c', ...fixedSecrets() }).config.statusToken,
    ).toBeUndefined();
  });

  it('generates development secrets once, in a 0600 file in the data folder', () => {
    const cwd = tempDir();
    const env = { MCP_ONEC_URL: 'http://1c', OAUTH_CACHE_DATA_DIR: join(cwd, 'state') };
    const first = loadServerConfig(env, cwd);
    expect(first.warnings.join('\n')).toMatch(/development secrets generated now/);
    const file = join(cwd, 'state', 'dev-secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadServerConfig(env, cwd);
    expect(second.warnings.join('\n')).toMatch(/development secrets from/);
    expect(second.config.cache.secret!.equals(first.config.cache.secret!)).toBe(true);
    expect(second.config.cache.encryptionKeys[0]!.key.equals(first.config.cache.encryptionKeys[0]!.key)).toBe(
      true,
    );
    expect(readFileSync(file, 'utf8')).toContain('dev1:');
  });

  it('does not leave a secrets file behind when the configuration is invalid', () => {
    const cwd = tempDir();
    expect(() => loadServerConfig({ MCP_PORT: 'x', OAUTH_CACHE_DATA_DIR: join(cwd, 'state') }, cwd)).toThrow(
      ConfigError,
    );
    expect(existsSync(join(cwd, 'state', 'dev-secrets.json'))).toBe(false);
  });
});

describe('the binary', () => {
  it('exits 78 with one clear line per bad variable and no stack trace', () => {
    const result = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', MCP_PORT: 'eighty', OAUTH_CACHE_DATA_DIR: tempDir() },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('invalid configuration');
    expect(result.stderr).toContain('MCP_PORT: expected a whole number');
    expect(result.stderr).toContain('MCP_ONEC_URL: required');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 78 for an unusable store URL', () => {
    const result = spawnSync(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        MCP_ONEC_URL: 'http://127.0.0.1:1',
        MCP_PORT: '0',
        OAUTH_CACHE_STORE: 'mysql://nope',
        OAUTH_CACHE_DATA_DIR: tempDir(),
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('OAUTH_CACHE_STORE');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
