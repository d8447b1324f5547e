import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { pingRedis } from './redis-ping.js';

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** AOF with `appendfsync always` (every acknowledged write survives a kill). Default: no persistence. */
  appendOnly?: boolean;
  /** Data directory. Default: a fresh temp dir, removed by `stop()`. */
  dir?: string;
  /** The server binary. Default: `$REDIS_SERVER_BIN` or `/usr/bin/redis-server`. */
  binary?: string;
  /** Require this password (`--requirepass`); `url` then carries it as `redis://:<password>@…`. */
  password?: string;
  /**
   * Serve TLS only (`rediss://`), with a fresh self-signed certificate for 127.0.0.1 made by
   * `openssl`; the handle's `ca` is the PEM to trust.
   */
  tls?: boolean;
  /** How long to wait for the first `PONG`. Default 15 s (slow shared machines). */
  startTimeoutMs?: number;
}

/** A running `redis-server` owned by the calling process. */
export interface RedisServerHandle {
  /** `redis://127.0.0.1:<port>` (`redis://:<password>@127.0.0.1:<port>` with a password). */
  readonly url: string;
  readonly port: number;
  /** The data directory (AOF files live here). */
  readonly dir: string;
  /** With `tls`: the server certificate (PEM), to pass as `ca` to clients. */
  readonly ca?: string;
  /** Graceful stop (SIGTERM, wait for exit), then remove the temp dir if this helper made it. */
  stop(): Promise<void>;
  /** Send a signal (default SIGKILL) and wait for the exit: simulates a crash. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port and data dir (after `kill`; `stop` is final), wait until it answers. */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Never leave servers behind when the test process exits, whatever the path out. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

async function assertBinary(binary: string): Promise<void> {
  try {
    await access(binary, constants.X_OK);
  } catch {
    throw new Error(`redis-server not found: apt-get install -y redis-server (looked for ${binary})`);
  }
}

const run = promisify(execFile);

/** A self-signed certificate for 127.0.0.1 in `dir` (cert.pem, key.pem). */
async function makeCertificate(dir: string): Promise<void> {
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]).catch((error: unknown) => {
    throw new Error(
      `openssl could not make a test certificate (apt-get install -y openssl): ${String(error)}`,
    );
  });
}

function tlsArgs(port: number, dir: string): string[] {
  return [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--tls-cert-file',
    join(dir, 'cert.pem'),
    '--tls-key-file',
    join(dir, 'key.pem'),
    '--tls-ca-cert-file',
    join(dir, 'cert.pem'),
    '--tls-auth-clients',
    'no',
  ];
}

function serverArgs(port: number, dir: string, appendOnly: boolean, password: string | undefined): string[] {
  const persistence = appendOnly
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  return [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    '--save',
    '',
    ...persistence,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(password === undefined ? [] : ['--requirepass', password]),
  ];
}

async function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/**
 * Start a private `redis-server` on a free 127.0.0.1 port and wait until it answers `PING`.
 * Throws "redis-server not found: apt-get install -y redis-server" when the binary is missing:
 * tests that need Redis must fail loudly, never skip.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const binary = options.binary ?? process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';
  await assertBinary(binary);
  installExitHook();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'oc-redis-')));
  const appendOnly = options.appendOnly ?? false;
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const useTls = options.tls ?? false;
  if (useTls) await makeCertificate(dir);
  let port = 0;
  let child: ChildProcess | undefined;
  let log = '';
  let stopped = false;

  const launch = async (): Promise<boolean> => {
    log = '';
    const args = serverArgs(port, dir, appendOnly, options.password);
    const proc = spawn(binary, useTls ? [...args, ...tlsArgs(port, dir)] : args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    proc.stdout?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    proc.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) return false;
      if (await pingRedis(port, 500, useTls)) return true;
      await sleep(30);
    }
    proc.kill('SIGKILL');
    await waitForExit(proc);
    return false;
  };

  // The port was free when we asked; another process may take it before redis binds: retry.
  for (let attempt = 0; attempt < 5; attempt++) {
    port = await freePort();
    if (await launch()) break;
    if (attempt === 4) {
      throw new Error(`redis-server did not start on 127.0.0.1:${port}: ${log.trim().slice(-500)}`);
    }
  }

  const stopChild = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await waitForExit(proc);
  };

  const scheme = useTls ? 'rediss' : 'redis';
  return {
    url:
      options.password === undefined
        ? `${scheme}://127.0.0.1:${port}`
        : `${scheme}://:${encodeURIComponent(options.password)}@127.0.0.1:${port}`,
    ...(useTls ? { ca: await readFile(join(dir, 'cert.pem'), 'utf8') } : {}),
    port,
    dir,
    async stop() {
      stopped = true;
      await stopChild('SIGTERM');
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
        child?.kill(signal);
        return;
      }
      await stopChild(signal);
    },
    async restart() {
      if (stopped)
        throw new Error('redis-server was stopped (data dir removed): use kill() before restart()');
      await stopChild('SIGKILL');
      if (!(await launch())) {
        throw new Error(`redis-server did not restart on 127.0.0.1:${port}: ${log.trim().slice(-500)}`);
      }
    },
  };
}
