/** MCP_REDIRECT_POLICY, MCP_ALLOWED_REDIRECT_HOSTS and MCP_LOGIN_FORM_TTL_SECONDS from the environment. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@oauth-cache/core';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/index.js';
import { fixedSecrets } from './support/harness.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function load(extra: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'oc-policy-'));
  dirs.push(dir);
  return loadServerConfig({ MCP_ONEC_URL: 'http://1c.local/base', ...fixedSecrets(), ...extra }, dir);
}

function issuesOf(extra: Record<string, string>): string[] {
  try {
    load(extra);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('redirect policy configuration', () => {
  it('defaults to warn, nothing listed, 10-minute forms', () => {
    const { config } = load({});
    expect(config.redirectPolicy).toEqual({ mode: 'warn', allowedHosts: [] });
    expect(config.loginFormTtlSeconds).toBe(600);
  });

  it('reads the mode and a comma-separated host list', () => {
    const { config } = load({
      MCP_REDIRECT_POLICY: 'Enforce',
      MCP_ALLOWED_REDIRECT_HOSTS: 'claude.ai, ChatGPT.com ,',
      MCP_LOGIN_FORM_TTL_SECONDS: '120',
    });
    expect(config.redirectPolicy).toEqual({ mode: 'enforce', allowedHosts: ['claude.ai', 'chatgpt.com'] });
    expect(config.loginFormTtlSeconds).toBe(120);
  });

  it('names the variable of a bad value', () => {
    expect(issuesOf({ MCP_REDIRECT_POLICY: 'strict' }).join('\n')).toContain(
      'MCP_REDIRECT_POLICY: expected "warn" or "enforce", got "strict"',
    );
    expect(issuesOf({ MCP_ALLOWED_REDIRECT_HOSTS: 'https://claude.ai' }).join('\n')).toContain(
      'MCP_ALLOWED_REDIRECT_HOSTS: "https://claude.ai" is not a host name',
    );
    expect(issuesOf({ MCP_LOGIN_FORM_TTL_SECONDS: '0' }).join('\n')).toContain('MCP_LOGIN_FORM_TTL_SECONDS');
  });
});
