/**
 * Real child processes for the scenarios: spawned with an explicit environment, their output kept
 * (bounded) for failure messages, and killed when the test process exits whatever the path out.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

/** Most output characters kept per process (the tail): enough for a failure message. */
const OUTPUT_TAIL_CHARS = 64 * 1024;

/** How a managed process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned process with its output and its exit. */
export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last {@link OUTPUT_TAIL_CHARS} characters of stdout and stderr, interleaved. */
  output(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** Resolves the first match of `pattern` in the output (searched as it arrives). */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Send `signal` (default SIGKILL) and wait for the exit. No-op when already gone. */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Only the processes this module spawned, by their own handle.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** Spawn `command args` with `env` (nothing inherited but PATH unless given). */
export function spawnManaged(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  options: Pick<SpawnOptions, 'uid' | 'gid' | 'cwd'> = {},
): ManagedProcess {
  installExitHook();
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
  live.add(child);
  let out = '';
  const watchers = new Set<() => void>();
  const append = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > OUTPUT_TAIL_CHARS * 2) out = out.slice(-OUTPUT_TAIL_CHARS);
    for (const watcher of watchers) watcher();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      status = { code, signal };
      for (const watcher of watchers) watcher();
      resolve(status);
    });
    child.once('error', (error) => {
      live.delete(child);
      out += `\n[spawn error] ${error.message}\n`;
      status = { code: null, signal: null };
      resolve(status);
    });
  });

  const handle: ManagedProcess = {
    child,
    pid: child.pid ?? -1,
    output: () => out.slice(-OUTPUT_TAIL_CHARS),
    exited,
    hasExited: () => status !== undefined,
    waitForOutput(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(out);
          if (match) {
            done();
            resolve(match);
          } else if (status) {
            done();
            reject(
              new Error(
                `${command} exited (code ${status.code}, signal ${status.signal}) before printing ${pattern}:\n${handle.output()}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`${command} did not print ${pattern} within ${timeoutMs} ms:\n${handle.output()}`),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    async kill(signal = 'SIGKILL') {
      if (status) return status;
      child.kill(signal);
      return exited;
    },
  };
  return handle;
}
