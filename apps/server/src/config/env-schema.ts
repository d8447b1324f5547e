/**
 * The server's own environment variables (upstream 1C MCP names where they exist), validated with
 * zod. Every problem names its variable. Core's variables (ENVIRONMENT, SECURITY_LEVEL, TOKEN_TTL,
 * OAUTH_CACHE_SECRET, ...) are read by core's `configFromEnv`.
 */
import { parseAllowedHosts } from '@oauth-cache/authorization-server';
import { z } from 'zod';
import { parseHostList, parseOriginList } from '../http/request-origin-rules.js';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

function wholeNumber(name: string, min: number, max: number, fallback: number) {
  return z
    .string()
    .trim()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return fallback;
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({
          code: 'custom',
          message: `${name}: expected a whole number from ${min} to ${max}, got "${clip(raw)}"`,
        });
        return z.NEVER;
      }
      return n;
    });
}

function httpUrl(name: string, options: { originOnly: boolean }) {
  return z
    .string()
    .trim()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return undefined;
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: `${name}: expected an absolute http(s) URL, got "${clip(raw)}"`,
        });
        return z.NEVER;
      }
      const problems: string[] = [];
      if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push('must use http or https');
      if (url.username || url.password) problems.push('must not contain credentials');
      if (url.search || url.hash) problems.push('must not contain a query or fragment');
      if (options.originOnly && url.pathname !== '/') {
        problems.push('must be an origin without a path (e.g. https://mcp.example.com)');
      }
      if (problems.length > 0) {
        ctx.addIssue({ code: 'custom', message: `${name}: ${problems.join(', ')} (got "${clip(raw)}")` });
        return z.NEVER;
      }
      return options.originOnly ? url.origin : `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    });
}

function flag(name: string) {
  return z
    .string()
    .trim()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return false;
      const v = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      ctx.addIssue({ code: 'custom', message: `${name}: expected true or false, got "${clip(raw)}"` });
      return z.NEVER;
    });
}

/** Schema of the server's variables. Unknown variables are ignored. */
export const serverEnvSchema = z.object({
  MCP_HOST: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const host = v || '127.0.0.1';
      if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host)) {
        ctx.addIssue({
          code: 'custom',
          message: `MCP_HOST: expected a host name or IP address, got "${clip(host)}"`,
        });
        return z.NEVER;
      }
      return host;
    }),
  MCP_PORT: wholeNumber('MCP_PORT', 0, 65535, 8000),
  MCP_PUBLIC_URL: httpUrl('MCP_PUBLIC_URL', { originOnly: true }),
  MCP_ONEC_URL: httpUrl('MCP_ONEC_URL', { originOnly: false }),
  MCP_ONEC_SERVICE_ROOT: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const root = (v || 'mcp').replace(/^\/+|\/+$/g, '');
      if (!/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(root)) {
        ctx.addIssue({
          code: 'custom',
          message: `MCP_ONEC_SERVICE_ROOT: expected a URL path segment such as "mcp", got "${clip(v ?? '')}"`,
        });
        return z.NEVER;
      }
      return root;
    }),
  MCP_AUTH_MODE: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '' || v.toLowerCase() === 'oauth2') return 'oauth2' as const;
      ctx.addIssue({
        code: 'custom',
        message: `MCP_AUTH_MODE: this server always runs the OAuth 2.1 mode; expected "oauth2" or unset, got "${clip(v)}"`,
      });
      return z.NEVER;
    }),
  MCP_OAUTH2_CODE_TTL: wholeNumber('MCP_OAUTH2_CODE_TTL', 10, 600, 120),
  MCP_OAUTH2_ACCESS_TTL: wholeNumber('MCP_OAUTH2_ACCESS_TTL', 60, 86_400, 3600),
  MCP_OAUTH2_REFRESH_TTL: wholeNumber('MCP_OAUTH2_REFRESH_TTL', 300, 365 * 86_400, 1_209_600),
  MCP_LOG_LEVEL: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const level = (v || 'info').toLowerCase();
      if (!(LOG_LEVELS as readonly string[]).includes(level)) {
        ctx.addIssue({
          code: 'custom',
          message: `MCP_LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${clip(v ?? '')}"`,
        });
        return z.NEVER;
      }
      return level;
    }),
  MCP_SHUTDOWN_GRACE_MS: wholeNumber('MCP_SHUTDOWN_GRACE_MS', 0, 600_000, 10_000),
  MCP_ONEC_TIMEOUT_MS: wholeNumber('MCP_ONEC_TIMEOUT_MS', 100, 600_000, 5000),
  MCP_ONEC_RPC_TIMEOUT_MS: wholeNumber('MCP_ONEC_RPC_TIMEOUT_MS', 100, 600_000, 60_000),
  MCP_TRUST_PROXY: flag('MCP_TRUST_PROXY'),
  MCP_TRUSTED_PROXY_HOPS: wholeNumber('MCP_TRUSTED_PROXY_HOPS', 1, 20, 1),
  MCP_LOGIN_MAX_FAILURES_PER_USER: wholeNumber('MCP_LOGIN_MAX_FAILURES_PER_USER', 1, 1000, 5),
  MCP_LOGIN_MAX_FAILURES_PER_IP: wholeNumber('MCP_LOGIN_MAX_FAILURES_PER_IP', 1, 100_000, 20),
  MCP_LOGIN_MAX_SUCCESSES_PER_USER: wholeNumber('MCP_LOGIN_MAX_SUCCESSES_PER_USER', 1, 100_000, 20),
  MCP_REGISTER_MAX_PER_HOUR: wholeNumber('MCP_REGISTER_MAX_PER_HOUR', 1, 1_000_000, 60),
  MCP_LOGIN_WINDOW_SECONDS: wholeNumber('MCP_LOGIN_WINDOW_SECONDS', 1, 86_400, 900),
  MCP_MAX_CONNECTIONS: wholeNumber('MCP_MAX_CONNECTIONS', 1, 1_000_000, 1000),
  MCP_LOGIN_FORM_TTL_SECONDS: wholeNumber('MCP_LOGIN_FORM_TTL_SECONDS', 1, 86_400, 600),
  MCP_REDIRECT_POLICY: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const mode = (v || 'warn').toLowerCase();
      if (mode === 'warn' || mode === 'enforce') return mode;
      ctx.addIssue({
        code: 'custom',
        message: `MCP_REDIRECT_POLICY: expected "warn" or "enforce", got "${clip(v ?? '')}"`,
      });
      return z.NEVER;
    }),
  MCP_ALLOWED_REDIRECT_HOSTS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parseAllowedHosts(v);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `MCP_ALLOWED_REDIRECT_HOSTS: ${(error as Error).message}`,
        });
        return z.NEVER;
      }
    }),
  MCP_ALLOWED_HOSTS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parseHostList(v);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `MCP_ALLOWED_HOSTS: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
  MCP_ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parseOriginList(v);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `MCP_ALLOWED_ORIGINS: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
  OAUTH_CACHE_STORE: z.string().trim().optional(),
  OAUTH_CACHE_L1_MAX: wholeNumber('OAUTH_CACHE_L1_MAX', 0, 10_000_000, 0),
  OAUTH_CACHE_L1_MAX_STALE_MS: wholeNumber('OAUTH_CACHE_L1_MAX_STALE_MS', 0, 60_000, 1000),
  OAUTH_CACHE_DATA_DIR: z.string().trim().optional(),
  OAUTH_CACHE_STATUS_TOKEN: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      if (v.length < 16 || /\s/.test(v)) {
        ctx.addIssue({
          code: 'custom',
          message: 'OAUTH_CACHE_STATUS_TOKEN: expected at least 16 characters without spaces',
        });
        return z.NEVER;
      }
      return v;
    }),
});

export type ServerEnv = z.output<typeof serverEnvSchema>;

function clip(value: string): string {
  return value.length > 60 ? `${value.slice(0, 60)}...` : value;
}
