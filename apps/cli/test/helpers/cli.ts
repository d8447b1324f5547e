import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configFromEnv, createTokenCache, type ExportedRecord, type TokenCache } from '@oauth-cache/core';
import { createStore } from '@oauth-cache/keyv';

/** The built CLI (tests run after `build`, as turbo orders them). */
export const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export type Env = Record<string, string | undefined>;

/** A fresh server configuration: secret, one encryption key, room for many tokens. */
export function serverEnv(extra: Env = {}): Env {
  return {
    OAUTH_CACHE_SECRET: randomBytes(32).toString('base64'),
    OAUTH_CACHE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    ENVIRONMENT: 'production',
    MAX_TOKEN_CACHE_SIZE: '5000000',
    ...extra,
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment of the child: PATH and HOME only from the parent, so no stray OAUTH_CACHE_* leaks in. */
function childEnv(env: Env): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
}

/** Run the CLI to completion; `nodeArgs` go to node before the bin (e.g. its shebang's heap cap). */
export function runCli(
  args: string[],
  env: Env = {},
  cwd?: string,
  nodeArgs: string[] = [],
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
      env: childEnv(env),
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Start the CLI and hand back the child (for kill tests). */
export function startCli(args: string[], env: Env = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A cache over `url` configured like the CLI from `env` (what the server would open). */
export async function openServerCache(url: string, env: Env): Promise<TokenCache> {
  const config = configFromEnv(env, { cleanupInterval: 0 });
  const store = await createStore(url, { prefix: config.prefix });
  return createTokenCache({ config, store, autoCleanup: false });
}

/** Every live record of `cache`, by key (what `export` would write). */
export async function exportedRecords(cache: TokenCache): Promise<Map<string, ExportedRecord>> {
  const out = new Map<string, ExportedRecord>();
  for await (const r of cache.exportRecords()) out.set(r.key, r);
  return out;
}

/**
 * Run the CLI with `args` and SIGKILL it once `target` holds `atLeast` active tokens (or when it
 * exits first). Resolves how it ended and how many tokens the target held afterwards.
 */
export async function killOnceLanded(
  args: string[],
  env: Env,
  target: TokenCache,
  atLeast: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; landed: number }> {
  const child = startCli(args, env);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let landed = 0;
  while (landed < atLeast) {
    await new Promise((r) => setTimeout(r, 50));
    landed = (await target.stats()).summary.totalActiveTokens;
    if (child.exitCode !== null) break;
  }
  child.kill('SIGKILL');
  const [code, signal] = await exited;
  return { code, signal, landed: (await target.stats()).summary.totalActiveTokens };
}

/** A temp dir removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'oc-cli-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Lines of stderr that report an entry error. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('error: '));
}
