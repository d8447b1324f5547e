/**
 * Scenario 4: a store the server cannot write. Start-up on a read-only file, a read-only folder, a
 * file that is not a database, a read-only file system or a full disk exits non-zero within
 * seconds with a message naming OAUTH_CACHE_STORE and the URL. A disk that fills up while serving
 * gives 503 + Retry-After on writes (never a 500, never a hang), reads keep working, and the server
 * recovers without a restart once space is freed.
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorProcess, loadUsers, startEmulatorProcess } from '../src/emulator-process.js';
import { recordFigures } from '../src/figures.js';
import {
  inMountNamespaceOf,
  probeTmpfs,
  readOnlyRunner,
  readOnlySpawnOptions,
  type TmpfsSupport,
  tmpfsWrap,
} from '../src/fs-faults.js';
import { httpRequest } from '../src/http.js';
import { sleep } from '../src/load.js';
import { runLoginBurst } from '../src/login-burst.js';
import { loginForTokens, mcpToolsList, registerClient } from '../src/oauth-flow.js';
import { serverMain } from '../src/paths.js';
import {
  type DeploymentSecrets,
  newSecrets,
  type StartServerOptions,
  serverEnv,
  spawnServer,
  startServerProcess,
} from '../src/server-process.js';
import { checkAccessTokens } from '../src/token-check.js';

let emulator: EmulatorProcess;
let dir: string;
let template: string;
const secrets: DeploymentSecrets = newSecrets();
const tmpfs: TmpfsSupport = await probeTmpfs();
const readOnly = readOnlyRunner(serverMain());
if (!tmpfs.ok) console.warn(`full-disk / read-only file system checks not run: ${tmpfs.reason}`);

beforeAll(async () => {
  emulator = await startEmulatorProcess(loadUsers(4));
  dir = await mkdtemp(join(tmpdir(), 'oc-rel-faults-'));
  chmodSync(dir, 0o755); // `nobody` must reach the files to be refused by their own mode
  // A real store file, made by the server itself and closed cleanly (no -wal/-shm left).
  template = join(dir, 'template.sqlite');
  const server = await startServerProcess(env(`sqlite://${template}`));
  expect(await server.stop()).toEqual({ code: 0, signal: null });
});
afterAll(async () => {
  await emulator?.stop();
  if (dir) {
    chmodSync(dir, 0o755);
    await rm(dir, { recursive: true, force: true });
  }
});

function env(store: string): Record<string, string> {
  return serverEnv({ onecUrl: emulator.url, store, secrets });
}

/** Start the binary expecting it to refuse: resolves its exit code, output and time to exit. */
async function refusedStart(store: string, options: StartServerOptions = {}) {
  const started = performance.now();
  const proc = spawnServer({ ...env(store), MCP_PORT: '0' }, options);
  const deadline = sleep(20_000).then(() => 'hung' as const);
  const status = await Promise.race([proc.exited, deadline]);
  if (status === 'hung') await proc.kill();
  return { status, output: proc.output(), ms: performance.now() - started };
}

function expectClearRefusal(outcome: Awaited<ReturnType<typeof refusedStart>>, url: string, cause: RegExp) {
  expect(outcome.status, outcome.output).not.toBe('hung');
  expect(outcome.status).toMatchObject({ code: 1 });
  expect(outcome.ms).toBeLessThan(10_000);
  expect(outcome.output).toContain('cannot open the token store (OAUTH_CACHE_STORE)');
  expect(outcome.output).toContain(url);
  expect(outcome.output).toMatch(cause);
}

describe('start-up on a store it cannot write', () => {
  it(`refuses a read-only SQLite file (${readOnly.kind}: root ignores file modes)`, async () => {
    const folder = join(dir, 'rofile');
    mkdirSync(folder);
    const file = join(folder, 'readonly.sqlite');
    copyFileSync(template, file);
    chmodSync(file, 0o444);
    const outcome = await refusedStart(`sqlite://${file}`, readOnlySpawnOptions(readOnly, folder));
    expectClearRefusal(outcome, `sqlite://${file}`, /SQLITE_READONLY|SQLITE_CANTOPEN|read-only/);
    recordFigures('store-faults-readonly-file', {
      runner: readOnly.kind,
      exitCode: outcome.status,
      exitMs: Math.round(outcome.ms),
    });
  });

  it('refuses a new file in a read-only folder, and a folder it cannot create', async () => {
    const folder = join(dir, 'locked');
    mkdirSync(folder);
    chmodSync(folder, 0o555);
    const options = readOnlySpawnOptions(readOnly, folder);
    const inFolder = await refusedStart(`sqlite://${folder}/new.sqlite`, options);
    expectClearRefusal(
      inFolder,
      `sqlite://${folder}/new.sqlite`,
      /SQLITE_CANTOPEN|SQLITE_READONLY|permission|read-only/,
    );
    const below = await refusedStart(`sqlite://${folder}/sub/new.sqlite`, options);
    // On a read-only mount Node's recursive mkdir reports ENOENT (not EROFS); the message still
    // names the folder it could not create.
    expectClearRefusal(
      below,
      `sqlite://${folder}/sub/new.sqlite`,
      /EACCES|EROFS|ENOENT|permission|read-only/,
    );
    expect(below.output).toContain(`creating the folder ${folder}/sub failed`);
  });

  it('refuses a file that is not a database', async () => {
    const junk = join(dir, 'junk.sqlite');
    writeFileSync(junk, 'this is not a database\n'.repeat(200));
    expectClearRefusal(
      await refusedStart(`sqlite://${junk}`),
      `sqlite://${junk}`,
      /SQLITE_NOTADB|not a database/,
    );
  });
});

describe.runIf(tmpfs.ok)(
  'a read-only file system and a full disk (tmpfs in a private mount namespace)',
  () => {
    it('refuses a store on a read-only file system, even as root', async () => {
      const mount = await mkdtemp(join(tmpdir(), 'oc-rel-rofs-'));
      try {
        const file = join(mount, 'cache.sqlite');
        const setup = `cp "${template}" "${file}" && mount -o remount,ro "${mount}"`;
        const outcome = await refusedStart(`sqlite://${file}`, { wrap: tmpfsWrap(mount, '1m', setup) });
        expectClearRefusal(outcome, `sqlite://${file}`, /SQLITE_READONLY|SQLITE_CANTOPEN|read-only/);
      } finally {
        await rm(mount, { recursive: true, force: true });
      }
    });

    it('refuses to start on a full disk', async () => {
      const mount = await mkdtemp(join(tmpdir(), 'oc-rel-full-'));
      try {
        const file = join(mount, 'cache.sqlite');
        const outcome = await refusedStart(`sqlite://${file}`, { wrap: tmpfsWrap(mount, '64k') });
        expectClearRefusal(outcome, `sqlite://${file}`, /SQLITE_FULL|disk is full/);
        recordFigures('store-faults-full-at-start', {
          exitCode: outcome.status,
          exitMs: Math.round(outcome.ms),
        });
      } finally {
        await rm(mount, { recursive: true, force: true });
      }
    });

    it('answers 503 on writes when the disk fills up while serving, keeps reading, recovers once space is freed', async () => {
      const mount = await mkdtemp(join(tmpdir(), 'oc-rel-fill-'));
      // 3 MiB with 1.8 MiB of ballast: room to start and for a few logins (~200 KiB of WAL each).
      const setup = `dd if=/dev/zero of="${mount}/ballast" bs=1k count=1800 2>/dev/null`;
      const server = await startServerProcess(env(`sqlite://${join(mount, 'cache.sqlite')}`), {
        wrap: tmpfsWrap(mount, '3m', setup),
      });
      try {
        const clientId = await registerClient(server.url);
        const first = await loginForTokens(server.url, clientId, { username: 'user-0', password: 'pw-0' });
        const burst = await runLoginBurst({
          base: server.url,
          clientId,
          concurrency: 4,
          maxLogins: 120,
          maxDurationMs: 30_000,
        });
        // The disk filled up: logins then failed with 503 only (no 500, no hang, no dropped connection).
        const failureKinds = Object.keys(burst.failures);
        expect(failureKinds.length).toBeGreaterThan(0);
        expect(failureKinds.filter((k) => !k.endsWith(':503'))).toEqual([]);
        const refused = await httpRequest(`${server.url}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:41000/cb'] }),
        });
        expect(refused.status).toBe(503);
        expect(refused.headers['retry-after']).toMatch(/^\d+$/);
        expect(JSON.parse(refused.body)).toMatchObject({ error: 'temporarily_unavailable' });
        // Reads still work: tokens issued before the disk filled validate.
        expect((await mcpToolsList(server.url, first.access_token)).status).toBe(200);
        expect((await httpRequest(`${server.url}/health`)).status).toBeLessThan(600);
        expect(server.process.hasExited()).toBe(false);

        // Free the space: the same process serves logins again, no restart.
        await inMountNamespaceOf(server.process.pid, ['rm', '-f', `${mount}/ballast`]);
        let recoveredAfterMs = Number.NaN;
        const freedAt = performance.now();
        while (performance.now() - freedAt < 10_000) {
          const ok = await loginForTokens(server.url, clientId, {
            username: 'user-1',
            password: 'pw-1',
          }).then(
            () => true,
            () => false,
          );
          if (ok) {
            recoveredAfterMs = performance.now() - freedAt;
            break;
          }
          await sleep(100);
        }
        expect(recoveredAfterMs).toBeLessThan(10_000);
        const check = await checkAccessTokens(server.url, [
          first.access_token,
          ...burst.acknowledged.map((t) => t.tokens.access_token),
        ]);
        expect(check.rejected).toEqual({});
        recordFigures('store-faults-disk-full', {
          loginsBeforeFull: burst.acknowledged.length + 1,
          failedLogins: burst.failures,
          recoveredAfterMs: Math.round(recoveredAfterMs),
        });
        expect(await server.stop()).toEqual({ code: 0, signal: null });
      } finally {
        await server.kill();
        await rm(mount, { recursive: true, force: true });
      }
    });
  },
);
