/**
 * The third-party gate tools that need Node >= 22.19 (the project itself runs on Node 20): the npm
 * package `node` (a Node 22 binary), the MCP Inspector and the official conformance suite, installed
 * once with npm into `apps/reliability/.third-party` (git-ignored) at pinned versions and run with
 * that Node 22 binary. Installing needs the npm registry: without it the gates fail, loudly.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Exact versions (the conformance 0.2.0 pre-release under an npm alias, next to 0.1.16). */
export const TOOL_VERSIONS = {
  node: '22.23.3',
  inspector: '2.12.0',
  conformance: '0.1.16',
  conformanceNext: '0.2.0-alpha.12',
} as const;

/** `apps/reliability/.third-party`. */
export const TOOLS_DIR = fileURLToPath(new URL('../../../.third-party/', import.meta.url));

const MODULES = join(TOOLS_DIR, 'node_modules');

/** Where each tool lives once installed. */
export const TOOL_PATHS = {
  node: join(MODULES, 'node', 'bin', 'node'),
  inspector: join(MODULES, '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js'),
  conformance: join(MODULES, '@modelcontextprotocol', 'conformance', 'dist', 'index.js'),
  conformanceNext: join(MODULES, 'conformance-next', 'dist', 'index.js'),
} as const;

const MANIFEST = {
  name: 'oauth-cache-third-party-gates',
  private: true,
  description: 'Installed by apps/reliability/test/third-party (Node 22 tools); not part of the workspace.',
  dependencies: {
    node: TOOL_VERSIONS.node,
    '@modelcontextprotocol/inspector': TOOL_VERSIONS.inspector,
    '@modelcontextprotocol/conformance': TOOL_VERSIONS.conformance,
    'conformance-next': `npm:@modelcontextprotocol/conformance@${TOOL_VERSIONS.conformanceNext}`,
  },
};

/** The result of a finished tool process. */
export interface ToolRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Options of {@link runProcess}. */
export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  /** Called with each stdout chunk as it arrives (e.g. to act on a printed URL). */
  onStdout?: (all: string) => void;
}

/**
 * The environment for npm and the tools: ours without the `npm_config_*` / `npm_package_*` values
 * that pnpm and npm put into scripts' environments (a child npm would read them as its own options,
 * e.g. pnpm-only ones it rejects), keeping the ones that say where and how to reach the registry.
 */
export function toolEnv(extra: Record<string, string> = {}): Record<string, string> {
  const keep =
    /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|noproxy|cafile|strict_ssl)$/i;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(npm_config_|npm_package_|npm_lifecycle_|pnpm_)/i.test(key) && !keep.test(key)) continue;
    env[key] = value;
  }
  // The tools' own child processes (if any) find Node 22 first.
  env.PATH = `${join(MODULES, 'node', 'bin')}:${env.PATH ?? '/usr/bin:/bin'}`;
  return { ...env, ...extra };
}

/** Run `command args` to completion (killed with SIGKILL at the deadline). */
export function runProcess(command: string, args: readonly string[], options: RunOptions): Promise<ToolRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? toolEnv(),
      cwd: options.cwd ?? TOOLS_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      options.onStdout?.(stdout);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not start: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, durationMs: performance.now() - started });
    });
  });
}

/** Run a tool's JavaScript entry point with the Node 22 binary. */
export function runWithNode22(
  script: string,
  args: readonly string[],
  options: RunOptions,
): Promise<ToolRun> {
  return runProcess(TOOL_PATHS.node, [script, ...args], options);
}

function installedVersion(pkgDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** True when every tool is present at its pinned version. */
function alreadyInstalled(): boolean {
  return (
    installedVersion(join(MODULES, 'node')) === TOOL_VERSIONS.node &&
    installedVersion(join(MODULES, '@modelcontextprotocol', 'inspector')) === TOOL_VERSIONS.inspector &&
    installedVersion(join(MODULES, '@modelcontextprotocol', 'conformance')) === TOOL_VERSIONS.conformance &&
    installedVersion(join(MODULES, 'conformance-next')) === TOOL_VERSIONS.conformanceNext &&
    Object.values(TOOL_PATHS).every((path) => existsSync(path))
  );
}

/** How the tools were made available. */
export interface ToolsReady {
  /** `npm install` ran (false: found installed at the pinned versions). */
  installed: boolean;
  /** Wall time of `npm install` (0 when skipped). */
  installMs: number;
  /** `node --version` of the Node 22 binary, e.g. `v22.23.3`. */
  nodeVersion: string;
}

const LOCK = join(TOOLS_DIR, '.install.lock');
/** A lock older than this belongs to a killed run (an install takes about a minute here). */
const STALE_LOCK_MS = 15 * 60_000;

async function withInstallLock<T>(work: () => Promise<T>): Promise<T> {
  mkdirSync(TOOLS_DIR, { recursive: true });
  const deadline = Date.now() + STALE_LOCK_MS;
  for (;;) {
    try {
      closeSync(openSync(LOCK, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const lockedAt = statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs;
      if (lockedAt !== undefined && Date.now() - lockedAt > STALE_LOCK_MS) rmSync(LOCK, { force: true });
      if (Date.now() > deadline) throw new Error(`${LOCK} held for over ${STALE_LOCK_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

let ready: Promise<ToolsReady> | undefined;

/**
 * Install the pinned tools into {@link TOOLS_DIR} unless they are there already (serialized across
 * processes by a lock file), then check that the `node` package really is Node 22. Throws with npm's
 * output when the registry cannot be reached: a gate that cannot run fails.
 */
export function ensureThirdPartyTools(): Promise<ToolsReady> {
  ready ??= withInstallLock(async () => {
    let installed = false;
    let installMs = 0;
    if (!alreadyInstalled()) {
      writeFileSync(join(TOOLS_DIR, 'package.json'), `${JSON.stringify(MANIFEST, null, 2)}\n`);
      const npm = await runProcess(
        'npm',
        [
          'install',
          '--prefix',
          TOOLS_DIR,
          '--no-audit',
          '--no-fund',
          '--no-package-lock',
          '--loglevel=error',
        ],
        { timeoutMs: 5 * 60_000 },
      );
      installed = true;
      installMs = npm.durationMs;
      if (npm.code !== 0 || !alreadyInstalled()) {
        throw new Error(
          `npm install of the third-party gate tools failed (exit ${npm.code}, signal ${npm.signal}) ` +
            `after ${Math.round(npm.durationMs)} ms; the npm registry must be reachable:\n${npm.stderr}\n${npm.stdout}`,
        );
      }
    }
    const version = await runProcess(TOOL_PATHS.node, ['--version'], { timeoutMs: 60_000 });
    const nodeVersion = version.stdout.trim();
    if (version.code !== 0 || nodeVersion !== `v${TOOL_VERSIONS.node}`) {
      throw new Error(
        `${TOOL_PATHS.node} --version said "${nodeVersion}" (exit ${version.code}), expected v${TOOL_VERSIONS.node}:\n${version.stderr}`,
      );
    }
    return { installed, installMs, nodeVersion };
  });
  return ready;
}
