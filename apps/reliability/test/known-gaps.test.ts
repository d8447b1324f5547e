/**
 * Defects found by this suite in other packages, each as the smallest test that shows it.
 *
 * They are declared with `it.fails`: the run stays green while the defect is there, and the test
 * turns RED once it is fixed — then drop `.fails` so it guards the fix. Everything the assertion
 * depends on is set up in `beforeAll`, so a broken setup fails the file instead of "passing".
 * The fixes are described in apps/reliability/README.md ("Defects found").
 */

import type { RedisServerHandle } from '@oauth-cache/keyv/testing';
import { startRedisServer } from '@oauth-cache/keyv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorProcess, loadUsers, startEmulatorProcess } from '../src/emulator-process.js';
import { type HttpResponse, httpRequest, postForm, postJson } from '../src/http.js';
import { loginForTokens, mcpToolsList, pkcePair, registerClient, submitLogin } from '../src/oauth-flow.js';
import {
  oauthErrorProblem,
  REGISTRATION_ERRORS,
  REVOCATION_ERRORS,
  RFC6749_DESCRIPTION,
} from '../src/oracles.js';
import { newSecrets, type ServerProcess, serverEnv, startServerProcess } from '../src/server-process.js';

interface LogLine {
  level: number;
  msg?: string;
}

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

describe('gap: a failing token store is never logged with its cause (apps/server, packages/koa)', () => {
  let redis: RedisServerHandle;
  let emulator: EmulatorProcess;
  let server: ServerProcess;
  let output = '';

  beforeAll(async () => {
    redis = await startRedisServer();
    emulator = await startEmulatorProcess();
    server = await startServerProcess(
      serverEnv({ onecUrl: emulator.url, store: redis.url, secrets: newSecrets() }),
    );
    const clientId = await registerClient(server.url);
    const { access_token } = await loginForTokens(server.url, clientId);
    await redis.kill('SIGKILL');
    // Clients are told (503), on every kind of route...
    expect((await mcpToolsList(server.url, access_token)).status).toBe(503);
    expect(
      (
        await httpRequest(`${server.url}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"redirect_uris":["http://127.0.0.1:1/cb"]}',
        })
      ).status,
    ).toBe(503);
    expect((await submitLogin(server.url, clientId, pkcePair().challenge)).status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 300));
    output = server.process.output();
  });
  afterAll(async () => {
    await server?.stop();
    await emulator?.stop();
    await redis?.stop();
  });

  it.fails('...but the operator only sees "request failed" lines: nothing says the store is down, or why', () => {
    const warnings = logLines(output).filter((line) => line.level >= 40 && line.msg !== 'request failed');
    expect(warnings.some((line) => /store|redis/i.test(JSON.stringify(line)))).toBe(true);
  });
});

describe('gap: concurrent correct logins from one address are slowed as if they were failures (authorization-server)', () => {
  let emulator: EmulatorProcess;
  let server: ServerProcess;
  const latencies: number[] = [];
  const statuses: number[] = [];

  beforeAll(async () => {
    emulator = await startEmulatorProcess(loadUsers(10));
    server = await startServerProcess(
      serverEnv({ onecUrl: emulator.url, store: 'memory://', secrets: newSecrets() }),
    );
    const clientId = await registerClient(server.url);
    // Ten colleagues behind one NAT address sign in at the same moment, all with the right password.
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const started = performance.now();
        const response = await submitLogin(server.url, clientId, pkcePair().challenge, {
          username: `user-${i}`,
          password: `pw-${i}`,
          localAddress: '127.0.0.50',
        });
        statuses.push(response.status);
        latencies.push(performance.now() - started);
      }),
    );
    expect(statuses.every((s) => s === 302)).toBe(true);
  });
  afterAll(async () => {
    await server?.stop();
    await emulator?.stop();
  });

  it.fails('each attempt in flight counts as a failure for the slowdown: the last ones wait up to 2 s', () => {
    // Without the artificial delay every login here takes tens of milliseconds.
    expect(Math.max(...latencies)).toBeLessThan(1000);
  });
});

describe('gap: behind a proxy, the per-address login limit trusts a client-chosen X-Forwarded-For entry (apps/server)', () => {
  let emulator: EmulatorProcess;
  let server: ServerProcess;
  const statuses: number[] = [];

  beforeAll(async () => {
    emulator = await startEmulatorProcess();
    server = await startServerProcess(
      serverEnv({
        onecUrl: emulator.url,
        store: 'memory://',
        secrets: newSecrets(),
        extra: { MCP_TRUST_PROXY: 'true', MCP_LOGIN_MAX_FAILURES_PER_IP: '10' },
      }),
    );
    const clientId = await registerClient(server.url);
    // One attacker at 198.51.100.7 behind a proxy that appends the address it saw (nginx's
    // $proxy_add_x_forwarded_for, most balancers): the first entry is whatever the attacker sent.
    for (let i = 0; i < 25; i++) {
      const { challenge } = pkcePair();
      const form = new URLSearchParams({
        client_id: clientId,
        redirect_uri: 'http://127.0.0.1:41000/cb',
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        username: `guess-${i}`,
        password: 'wrong',
        action: 'login',
      });
      const response = await httpRequest(`${server.url}/authorize`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': `203.0.113.${i}, 198.51.100.7`,
        },
        body: form.toString(),
      });
      statuses.push(response.status);
    }
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });
  afterAll(async () => {
    await server?.stop();
    await emulator?.stop();
  });

  it.fails('25 wrong guesses from one real address are all checked: the 10-per-address limit never applies', () => {
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
  });
});

describe('gap: error_description quotes with `"` and echoes client input verbatim (authorization-server)', () => {
  let emulator: EmulatorProcess;
  let server: ServerProcess;
  const answers: HttpResponse[] = [];

  beforeAll(async () => {
    emulator = await startEmulatorProcess();
    server = await startServerProcess(
      serverEnv({ onecUrl: emulator.url, store: 'memory://', secrets: newSecrets() }),
    );
    const clientId = await registerClient(server.url);
    // A public client sending a secret (token-endpoint.ts), and unsupported metadata (clients.ts).
    answers.push(
      await postForm(
        `${server.url}/token`,
        new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: clientId,
          client_secret: 's',
          code: 'c',
          code_verifier: 'v'.repeat(43),
        }),
      ),
    );
    answers.push(
      await postJson(`${server.url}/register`, {
        redirect_uris: ['http://127.0.0.1/cb'],
        grant_types: ['é"x\u0001'],
      }),
    );
    answers.push(
      await postJson(`${server.url}/register`, { redirect_uris: ['http://127.0.0.1/cb'], scope: 'mcp Ω\\' }),
    );
    expect(answers.map((a) => a.status)).toEqual([401, 400, 400]);
  });
  afterAll(async () => {
    await server?.stop();
    await emulator?.stop();
  });

  it.fails('RFC 6749 §5.2: error_description must not contain `"`, `\\`, controls or non-ASCII', () => {
    const problems = answers.map((answer) =>
      oauthErrorProblem(answer, [...REVOCATION_ERRORS, ...REGISTRATION_ERRORS], RFC6749_DESCRIPTION),
    );
    expect(problems).toEqual([undefined, undefined, undefined]);
  });
});
