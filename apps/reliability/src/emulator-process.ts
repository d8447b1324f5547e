/** The real 1C emulator (NOT 1C: a development emulator) in its own process. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ManagedProcess, spawnManaged } from './child-process.js';
import { httpRequest, jsonOf } from './http.js';
import { emulatorMain } from './paths.js';

/** A 1C user the emulator accepts. */
export interface EmulatorUser {
  login: string;
  password: string;
  /** false: valid password but no right to the HTTP service (403). */
  access?: boolean;
}

/** The shipped demo users (`apps/onec-emulator/users.json`). */
export const DEMO_USERS: readonly EmulatorUser[] = [
  { login: 'demo', password: 'demo' },
  { login: 'ivanov', password: 'Пароль123' },
  { login: 'noaccess', password: 'noaccess', access: false },
];

/** `count` extra users `user-0`..`user-N` (password `pw-<i>`), for bursts of distinct people. */
export function loadUsers(count: number): EmulatorUser[] {
  return Array.from({ length: count }, (_, i) => ({ login: `user-${i}`, password: `pw-${i}` }));
}

/** A running emulator process. */
export interface EmulatorProcess {
  /** Origin, e.g. `http://127.0.0.1:40123`: the server's `MCP_ONEC_URL`. */
  url: string;
  process: ManagedProcess;
  /** Resolves once at least `count` `/rpc` calls are being held by its delay (`ONEC_EMULATOR_DELAY_MS`). */
  waitForDelayed(count: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startEmulatorProcess}. */
export interface EmulatorProcessOptions {
  /** A slow 1C: every `/rpc` call is held this long (`ONEC_EMULATOR_DELAY_MS`); logins are not. */
  delayMs?: number;
}

/**
 * Start `node apps/onec-emulator/dist/main.js` on a free 127.0.0.1 port with the demo users plus
 * `extraUsers` (written to a users file it reads at start).
 */
export async function startEmulatorProcess(
  extraUsers: readonly EmulatorUser[] = [],
  options: EmulatorProcessOptions = {},
): Promise<EmulatorProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'oc-rel-emu-'));
  const usersFile = join(dir, 'users.json');
  writeFileSync(usersFile, JSON.stringify({ users: [...DEMO_USERS, ...extraUsers] }));
  const proc = spawnManaged(process.execPath, [emulatorMain()], {
    ONEC_EMULATOR_PORT: '0',
    ONEC_EMULATOR_HOST: '127.0.0.1',
    ONEC_EMULATOR_USERS: usersFile,
    ...(options.delayMs ? { ONEC_EMULATOR_DELAY_MS: String(options.delayMs) } : {}),
  });
  try {
    const match = await proc.waitForOutput(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 20_000);
    const url = match[1] as string;
    return {
      url,
      process: proc,
      async waitForDelayed(count, timeoutMs) {
        const started = performance.now();
        let delayed = 0;
        while (performance.now() - started < timeoutMs) {
          const listed = jsonOf(await httpRequest(`${url}/__emulator/calls`, { timeoutMs: 2000 }));
          delayed = (listed as { delayed?: number } | undefined)?.delayed ?? 0;
          if (delayed >= count) return;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw new Error(`only ${delayed} of ${count} calls reached the slow 1C within ${timeoutMs} ms`);
      },
      async stop() {
        await proc.kill('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
