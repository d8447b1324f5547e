/**
 * The real server binary (`node apps/server/dist/main.js`) in its own process, configured only
 * through its environment, as an operator runs it.
 */
import { randomBytes } from 'node:crypto';
import { freePort } from '@oauth-cache/keyv/testing';
import { type ExitStatus, type ManagedProcess, spawnManaged } from './child-process.js';
import { HttpFailure, httpRequest } from './http.js';
import { serverMain } from './paths.js';

/** The two secrets every instance of one deployment shares. */
export interface DeploymentSecrets {
  OAUTH_CACHE_SECRET: string;
  OAUTH_CACHE_ENCRYPTION_KEYS: string;
}

/** Fresh secrets, as an operator generates them once per deployment. */
export function newSecrets(): DeploymentSecrets {
  return {
    OAUTH_CACHE_SECRET: randomBytes(32).toString('base64'),
    OAUTH_CACHE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  };
}

/** Options of {@link serverEnv}. */
export interface ServerEnvOptions {
  /** `MCP_ONEC_URL` (the emulator's origin). */
  onecUrl: string;
  /** `OAUTH_CACHE_STORE`. */
  store: string;
  secrets: DeploymentSecrets;
  /** `MCP_PUBLIC_URL`; instances behind one balancer share it. Default: the instance's own origin. */
  publicUrl?: string;
  /** Anything else (wins over the defaults). */
  extra?: Record<string, string>;
}

/**
 * A production configuration on loopback: `ENVIRONMENT=production` (security level maximum, explicit
 * secrets), logs at `warn`, a token limit large enough that no test login is refused (each login
 * holds 2), per-user grant and successful-login limits that a worker logging in as one user again
 * and again does not reach (every acknowledged token must stay valid), and a registration limit
 * that bursts of test logins do not reach.
 */
export function serverEnv(options: ServerEnvOptions): Record<string, string> {
  return {
    ENVIRONMENT: 'production',
    MCP_HOST: '127.0.0.1',
    MCP_ONEC_URL: options.onecUrl,
    MCP_LOG_LEVEL: 'warn',
    OAUTH_CACHE_STORE: options.store,
    MAX_TOKEN_CACHE_SIZE: '200000',
    MAX_GRANTS_PER_USER: '100000',
    MCP_LOGIN_MAX_SUCCESSES_PER_USER: '100000',
    MCP_REGISTER_MAX_PER_HOUR: '1000000',
    // Required in production (it guards /cache/status and /metrics).
    OAUTH_CACHE_STATUS_TOKEN: randomBytes(24).toString('base64url'),
    ...(options.publicUrl ? { MCP_PUBLIC_URL: options.publicUrl } : {}),
    ...options.secrets,
    ...options.extra,
  };
}

/** A running server process. */
export interface ServerProcess {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  process: ManagedProcess;
  /** SIGTERM (graceful) and wait for the exit. */
  stop(): Promise<ExitStatus>;
  /** SIGKILL (crash) and wait for the exit. */
  kill(): Promise<ExitStatus>;
}

/** Options of {@link startServerProcess}. */
export interface StartServerOptions {
  /** Port to bind; default a free one (retried if another process takes it first). */
  port?: number;
  /** Run as this user (e.g. `nobody` when the test runs as root). */
  uid?: number;
  gid?: number;
  /** Wrap the node command, e.g. `['unshare', '-m', 'sh', '-c', '... exec "$0" "$@"']`. */
  wrap?: string[];
  /** How long to wait for `/health` to answer. Default 30 s. */
  readyTimeoutMs?: number;
}

/**
 * Start the binary with `env` (`MCP_PORT` set here) and wait until `GET /health` answers (200, or
 * 503 if the store is down). Throws with the process output when it exits first.
 */
export async function startServerProcess(
  env: Record<string, string>,
  options: StartServerOptions = {},
): Promise<ServerProcess> {
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    const proc = spawnServer({ ...env, MCP_PORT: String(port) }, options);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilServing(url, proc, options.readyTimeoutMs ?? 30_000);
    } catch (error) {
      await proc.kill('SIGKILL');
      // A free port can be taken between asking and binding: try another one.
      if (options.port === undefined && attempt < 3 && /EADDRINUSE/.test(proc.output())) continue;
      throw error;
    }
    return {
      url,
      port,
      process: proc,
      stop: () => proc.kill('SIGTERM'),
      kill: () => proc.kill('SIGKILL'),
    };
  }
}

/** Spawn the binary without waiting for anything (for start-up failures). */
export function spawnServer(env: Record<string, string>, options: StartServerOptions = {}): ManagedProcess {
  const node = [process.execPath, serverMain()];
  const [command, ...args] = options.wrap ? [...options.wrap, ...node] : node;
  return spawnManaged(command as string, args, env, {
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
}

async function waitUntilServing(url: string, proc: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      const status = await proc.exited;
      throw new Error(`server exited during start-up (code ${status.code}):\n${proc.output()}`);
    }
    try {
      const health = await httpRequest(`${url}/health`, { timeoutMs: 2000 });
      // Our server's health document names its store (not some other process on a reused port).
      if ((health.status === 200 || health.status === 503) && health.body.includes('"store"')) return;
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`server did not answer /health within ${timeoutMs} ms:\n${proc.output()}`);
}
