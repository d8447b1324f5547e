/**
 * Scenario 5a: bounded fast-check runs over every input the server takes from strangers — the
 * Authorization header, the parameters of /authorize (query and form), /token and /revoke (form and
 * query), and the /register document — sent as raw bytes (repeated keys, huge values, invalid and
 * non-UTF-8 percent-encodings, control characters). Never a 5xx, never a crash, never a hang; every
 * 4xx RFC-shaped; a redirect only to a registered URI. Each property prints how many inputs it tried
 * (`RELIABILITY_FUZZ_SCALE` multiplies the run counts, for the soak script).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorProcess, startEmulatorProcess } from '../src/emulator-process.js';
import { recordFigures } from '../src/figures.js';
import {
  authorizationValues,
  rawParams,
  redirectUriVariants,
  registrationBodies,
} from '../src/fuzz-arbitraries.js';
import { type HttpResponse, postForm, postJson } from '../src/http.js';
import { loginForTokens, pkcePair, registerClient, TOOLS_LIST_BODY } from '../src/oauth-flow.js';
import {
  acceptedRedirectUriProblem,
  bearerRefusalProblem,
  oauthErrorProblem,
  REGISTRATION_ERRORS,
  REVOCATION_ERRORS,
  RFC6749_DESCRIPTION,
  redirectProblem,
  TOKEN_ERRORS,
} from '../src/oracles.js';
import { rawExchange } from '../src/raw-socket.js';
import { newSecrets, type ServerProcess, serverEnv, startServerProcess } from '../src/server-process.js';

/**
 * The charset every `error_description` is held to: RFC 6749 §5.2's %x20-21 / %x23-5B / %x5D-7E
 * (no `"`, no `\`, no controls, no non-ASCII), also on /register (RFC 7591 only asks for ASCII)
 * and also where the server echoes client input.
 */
const DESCRIPTION_CHARSET = RFC6749_DESCRIPTION;

const SCALE = Math.max(1, Number(process.env.RELIABILITY_FUZZ_SCALE ?? '1') || 1);
const runs = (n: number) => Math.round(n * SCALE);
const REGISTERED = ['http://127.0.0.1:41000/cb', 'https://client.example.com/cb'];

let emulator: EmulatorProcess;
let server: ServerProcess;
let clientId: string;
let accessToken: string;
let refreshToken: string;
const tried: Record<string, number> = {};
const outcomes: Record<string, Record<string, number>> = {};

beforeAll(async () => {
  emulator = await startEmulatorProcess();
  server = await startServerProcess(
    serverEnv({ onecUrl: emulator.url, store: 'memory://', secrets: newSecrets() }),
  );
  clientId = await registerClient(server.url, REGISTERED);
  const tokens = await loginForTokens(server.url, clientId);
  accessToken = tokens.access_token;
  refreshToken = tokens.refresh_token;
});
afterAll(async () => {
  recordFigures('fuzz', { scale: SCALE, inputsTried: tried, outcomes });
  await server?.stop();
  await emulator?.stop();
});

/** Count an input and its outcome; fail with the server's output tail when it died. */
function count(property: string, response: HttpResponse): void {
  tried[property] = (tried[property] ?? 0) + 1;
  const byStatus = outcomes[property] ?? {};
  outcomes[property] = byStatus;
  byStatus[response.status] = (byStatus[response.status] ?? 0) + 1;
  if (server.process.hasExited()) throw new Error(`the server died:\n${server.process.output()}`);
}

function send(
  method: string,
  target: string,
  headerLines: string[] = [],
  body?: string | Buffer,
  localAddress?: string,
) {
  return rawExchange(server.port, {
    method,
    target: Buffer.from(target, 'latin1'),
    headerLines,
    ...(body === undefined ? {} : { body }),
    ...(localAddress ? { localAddress } : {}),
    timeoutMs: 10_000,
  });
}

function htmlOrParserAnswer(response: HttpResponse): string | undefined {
  if (response.status >= 500) return `status ${response.status}`;
  if (response.status === 302) {
    return redirectProblem(String(response.headers.location ?? ''), REGISTERED);
  }
  if (![200, 400, 401, 403, 413, 414, 415, 429, 431].includes(response.status))
    return `status ${response.status}`;
  return undefined;
}

const authorizeNames = [
  'client_id',
  'redirect_uri',
  'response_type',
  'state',
  'scope',
  'code_challenge',
  'code_challenge_method',
  'resource',
];

describe('fuzzing every input (bounded fast-check runs)', () => {
  it('Authorization header on /mcp: 400/401 with a Bearer challenge, never accepted, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(authorizationValues(accessToken), async (value) => {
        const response = await send(
          'POST',
          '/mcp',
          [
            `Authorization: ${value}`,
            'Content-Type: application/json',
            'Accept: application/json, text/event-stream',
          ],
          TOOLS_LIST_BODY,
        );
        count('authorizationHeader', response);
        // The valid token itself may come out (HTTP strips spaces and tabs around a field value):
        // that is the only 200.
        if (value.replace(/^[ \t]+|[ \t]+$/g, '') === `Bearer ${accessToken}`) return response.status === 200;
        const problem = bearerRefusalProblem(response);
        if (problem) throw new Error(`${problem}\n${JSON.stringify(value).slice(0, 200)}`);
        return true;
      }),
      { numRuns: runs(1000) },
    );
  });

  it('GET /authorize query: a page or a redirect to a registered URI, never 5xx', async () => {
    const { challenge } = pkcePair();
    const valid = [clientId, ...REGISTERED, 'code', 'S256', challenge, 'mcp', `${server.url}/mcp`, 'st'];
    // Half of the inputs start from a valid request, so the checks past the client's are reached.
    const validRequest = new URLSearchParams({
      client_id: clientId,
      redirect_uri: REGISTERED[0] as string,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const queries = fc
      .tuple(fc.boolean(), rawParams(authorizeNames, valid))
      .map(([fromValid, extra]) => (fromValid ? `${validRequest}&${extra}` : extra));
    await fc.assert(
      fc.asyncProperty(queries, async (query) => {
        const response = await send('GET', `/authorize?${query}`);
        count('authorizeQuery', response);
        const problem = htmlOrParserAnswer(response);
        if (problem) throw new Error(`${problem}\nquery: ${query.slice(0, 300)}`);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('POST /authorize form (with login fields): a page or a redirect to a registered URI, never 5xx', async () => {
    const { challenge } = pkcePair();
    const valid = [clientId, ...REGISTERED, 'code', 'S256', challenge, 'mcp', 'demo', 'login', 'deny'];
    await fc.assert(
      fc.asyncProperty(
        rawParams([...authorizeNames, 'username', 'password', 'action'], valid),
        fc.constantFrom(
          'application/x-www-form-urlencoded',
          'application/x-www-form-urlencoded; charset=utf-8',
          'text/plain',
          'application/json',
        ),
        async (form, type) => {
          const response = await send('POST', '/authorize', [`Content-Type: ${type}`], form);
          count('authorizeForm', response);
          const problem = htmlOrParserAnswer(response);
          if (problem) throw new Error(`${problem}\nform: ${form.slice(0, 300)}`);
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('POST /token form and query: RFC 6749 §5.2 errors, never 5xx', async () => {
    const valid = [
      clientId,
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'password',
      REGISTERED[0] as string,
      'x'.repeat(43),
      refreshToken,
      'mcp',
      `${server.url}/mcp`,
    ];
    const names = [
      'grant_type',
      'client_id',
      'code',
      'code_verifier',
      'redirect_uri',
      'refresh_token',
      'scope',
      'resource',
      'client_secret',
    ];
    await fc.assert(
      fc.asyncProperty(
        rawParams(names, valid),
        fc.option(rawParams(names, valid), { nil: undefined }),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'multipart/form-data', ''),
        async (form, query, type) => {
          const response = await send(
            'POST',
            query === undefined ? '/token' : `/token?${query}`,
            type ? [`Content-Type: ${type}`] : [],
            form,
          );
          count('tokenForm', response);
          // Only a valid refresh of the real refresh token could succeed (never generated exactly).
          if (response.status === 200) return;
          if (response.status === 400 && response.body === '' && !response.headers['content-type']) return; // Node's parser
          if (response.status === 431) return;
          const problem = oauthErrorProblem(response, TOKEN_ERRORS, DESCRIPTION_CHARSET);
          if (problem) throw new Error(`${problem}\nform: ${form.slice(0, 300)}`);
        },
      ),
      { numRuns: runs(1000) },
    );
  });

  it('POST /revoke form and query: 200 or RFC 7009 errors, never 5xx', async () => {
    const valid = [clientId, 'access_token', 'refresh_token', 'x'.repeat(43), 'bogus'];
    const names = ['token', 'token_type_hint', 'client_id', 'client_secret'];
    await fc.assert(
      fc.asyncProperty(
        rawParams(names, valid),
        fc.option(rawParams(names, valid), { nil: undefined }),
        async (form, query) => {
          const response = await send(
            'POST',
            query === undefined ? '/revoke' : `/revoke?${query}`,
            ['Content-Type: application/x-www-form-urlencoded'],
            form,
          );
          count('revokeForm', response);
          if (response.status === 200) return;
          if (response.status === 400 && response.body === '' && !response.headers['content-type']) return;
          if (response.status === 431) return;
          const problem = oauthErrorProblem(response, REVOCATION_ERRORS, DESCRIPTION_CHARSET);
          if (problem) throw new Error(`${problem}\nform: ${form.slice(0, 300)}`);
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('POST /register JSON: 201 only with acceptable redirect URIs, else RFC 7591 errors, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(registrationBodies(), async (body) => {
        const response = await send('POST', '/register', ['Content-Type: application/json'], body);
        count('registerJson', response);
        if (response.status === 201) {
          const client = JSON.parse(response.body) as { client_id?: unknown; redirect_uris?: unknown[] };
          expect(typeof client.client_id).toBe('string');
          expect(Array.isArray(client.redirect_uris) && client.redirect_uris.length > 0).toBe(true);
          for (const uri of client.redirect_uris ?? []) {
            const problem = acceptedRedirectUriProblem(uri);
            if (problem) throw new Error(problem);
          }
          return;
        }
        const problem = oauthErrorProblem(response, REGISTRATION_ERRORS, DESCRIPTION_CHARSET);
        if (problem) throw new Error(`${problem}\nbody: ${body.slice(0, 300)}`);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('open redirect: no redirect_uri variant, in GET or in a successful login POST, redirects off the registered URIs', async () => {
    const { challenge } = pkcePair();
    let redirects = 0;
    await fc.assert(
      fc.asyncProperty(
        redirectUriVariants(),
        fc.boolean(),
        fc.constantFrom('login', 'deny', 'get'),
        fc.constantFrom('code', 'token', ''),
        async (redirectUri, duplicate, how, responseType) => {
          const params = new URLSearchParams({
            client_id: clientId,
            redirect_uri: redirectUri,
            response_type: responseType,
            code_challenge: challenge,
            code_challenge_method: 'S256',
            state: 's',
          });
          // A second, legitimate redirect_uri must not launder the first one.
          if (duplicate) params.append('redirect_uri', REGISTERED[0] as string);
          let response: HttpResponse;
          if (how === 'get') {
            response = await send('GET', `/authorize?${params}`);
          } else {
            // Another user and address than the form fuzzing above, whose wrong guesses lock theirs.
            params.set('username', 'ivanov');
            params.set('password', 'Пароль123');
            params.set('action', how);
            response = await send(
              'POST',
              '/authorize',
              ['Content-Type: application/x-www-form-urlencoded'],
              params.toString(),
              '127.0.0.77',
            );
          }
          count('openRedirect', response);
          if (response.status === 302) {
            redirects++;
            const problem = redirectProblem(String(response.headers.location ?? ''), REGISTERED);
            if (problem) throw new Error(`${problem} (redirect_uri ${JSON.stringify(redirectUri)}, ${how})`);
            return;
          }
          // The login form (a valid GET), or an error page: never a redirect, no Location at all.
          if (![200, 400, 431].includes(response.status) || (response.status === 200 && how !== 'get')) {
            throw new Error(
              `status ${response.status} for redirect_uri ${JSON.stringify(redirectUri)} (${how})`,
            );
          }
          expect(response.headers.location).toBeUndefined();
        },
      ),
      { numRuns: runs(1000) },
    );
    // The generator does produce registered URIs: the property saw both outcomes.
    expect(redirects).toBeGreaterThan(0);
    expect(tried.openRedirect).toBeGreaterThan(redirects);
  });
});

describe('error_description characters (RFC 6749 §5.2), deterministically', () => {
  it('quotes with an apostrophe and never echoes `"`, `\\`, controls or non-ASCII from client input', async () => {
    // A public client sending a secret (token endpoint), and unsupported metadata echoed back (registration).
    const answers = [
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
      await postJson(`${server.url}/register`, {
        redirect_uris: ['http://127.0.0.1/cb'],
        grant_types: ['é"x\u0001'],
      }),
      await postJson(`${server.url}/register`, { redirect_uris: ['http://127.0.0.1/cb'], scope: 'mcp Ω\\' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 400, 400]);
    const problems = answers.map((answer) =>
      oauthErrorProblem(answer, [...REVOCATION_ERRORS, ...REGISTRATION_ERRORS], RFC6749_DESCRIPTION),
    );
    expect(problems).toEqual([undefined, undefined, undefined]);
    expect((JSON.parse(answers[1]?.body ?? '{}') as { error_description?: string }).error_description).toBe(
      "grant_types: '?'x?' is not supported (authorization_code, refresh_token)",
    );
  });
});
