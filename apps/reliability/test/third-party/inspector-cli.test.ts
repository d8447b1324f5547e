/**
 * Issue 19, gate 2: the MCP Inspector CLI (`@modelcontextprotocol/inspector` 2.12.0, Node 22 from
 * npm), as a user runs it against a deployed gateway: `--cli <url> --header "Authorization: Bearer
 * <token>"` (token from the real OAuth flow), `--method tools/list` and `--method tools/call
 * --tool-name ...`, once with the default protocol era (legacy: `initialize`) and once with
 * `--protocol-era modern` (2026-07-28). It goes through the recording proxy, which forwards its own
 * Authorization header untouched, so the test sees which protocol each run spoke.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, type ProxiedRequest, startGateway } from './support/gateway.js';
import {
  ensureThirdPartyTools,
  runWithNode22,
  TOOL_PATHS,
  TOOL_VERSIONS,
  type ToolRun,
  toolEnv,
} from './support/tools.js';

let gateway: Gateway;
let home: string;

/** The tool's JSON result (`--format json`: one object on stdout). */
interface InspectorOutput {
  result?: {
    tools?: Array<{ name: string }>;
    content?: Array<{ type: string; text?: string }>;
    isError?: boolean;
    _meta?: Record<string, unknown>;
  };
}

/** One Inspector CLI run; resolves its output and the requests it sent. */
async function inspector(
  era: 'default' | 'modern',
  args: readonly string[],
): Promise<{ run: ToolRun; output: InspectorOutput; requests: ProxiedRequest[] }> {
  const before = gateway.proxied.length;
  const run = await runWithNode22(
    TOOL_PATHS.inspector,
    [
      '--cli',
      `${gateway.proxyUrl}/mcp`,
      ...(era === 'modern' ? ['--protocol-era', 'modern'] : []),
      '--header',
      `Authorization: Bearer ${gateway.accessToken}`,
      '--format',
      'json',
      ...args,
    ],
    // Its catalog and settings live under HOME: a scratch one, nothing of the machine's.
    { timeoutMs: 180_000, env: toolEnv({ HOME: home }), cwd: home },
  );
  if (run.code !== 0) throw new Error(`inspector exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
  return {
    run,
    output: JSON.parse(run.stdout) as InspectorOutput,
    requests: gateway.proxied.slice(before),
  };
}

const durations: string[] = [];

describe(`MCP Inspector ${TOOL_VERSIONS.inspector} CLI against /mcp`, () => {
  beforeAll(async () => {
    await ensureThirdPartyTools();
    gateway = await startGateway();
    home = mkdtempSync(join(tmpdir(), 'oc-inspector-home-'));
  }, 900_000);

  afterAll(async () => {
    console.log(`FIGURES inspector ${TOOL_VERSIONS.inspector} runs: ${durations.join(', ')}`);
    await gateway?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  }, 60_000);

  for (const era of ['default', 'modern'] as const) {
    describe(era === 'default' ? 'default era (legacy)' : '--protocol-era modern', () => {
      it('tools/list lists the emulator tools', async () => {
        const { run, output, requests } = await inspector(era, ['--method', 'tools/list']);
        durations.push(`${era} tools/list ${Math.round(run.durationMs)} ms`);
        expect(output.result?.tools?.map((t) => t.name)).toEqual(
          expect.arrayContaining(['get_current_user', 'echo', 'list_catalog']),
        );
        // The bearer token was the Inspector's own header, accepted by the server. The one refusal
        // allowed: the legacy client's optional GET stream, 405 from a stateless server (as the
        // Streamable HTTP transport specifies for servers without one).
        expect(requests.length).toBeGreaterThan(0);
        expect(requests.every((r) => r.hadAuthorization)).toBe(true);
        const refused = requests.filter((r) => r.status >= 400);
        expect(refused.every((r) => r.method === 'GET' && r.status === 405)).toBe(true);
        expect(
          requests.filter((r) => r.method === 'POST').every((r) => r.status >= 200 && r.status < 300),
        ).toBe(true);
        const methods = requests.map((r) => r.rpcMethod);
        expect(methods).toContain('tools/list');
        if (era === 'default') {
          expect(methods).toContain('initialize');
          expect(requests.some((r) => r.protocolVersion === '2026-07-28')).toBe(false);
        } else {
          expect(methods).not.toContain('initialize');
          const listed = requests.find((r) => r.rpcMethod === 'tools/list') as ProxiedRequest;
          expect(listed.protocolVersion).toBe('2026-07-28');
        }
      }, 240_000);

      it('tools/call echo and get_current_user run in 1C as demo', async () => {
        const echo = await inspector(era, [
          '--method',
          'tools/call',
          '--tool-name',
          'echo',
          '--tool-arg',
          'text=привет из inspector',
        ]);
        durations.push(`${era} tools/call ${Math.round(echo.run.durationMs)} ms`);
        expect(echo.output.result?.isError).toBe(false);
        expect(echo.output.result?.content).toEqual([{ type: 'text', text: 'привет из inspector' }]);
        const me = await inspector(era, ['--method', 'tools/call', '--tool-name', 'get_current_user']);
        const text = me.output.result?.content?.find((c) => c.type === 'text')?.text ?? '';
        expect((JSON.parse(text) as { login: string }).login).toBe('demo');
        const called = me.requests.find((r) => r.rpcMethod === 'tools/call') as ProxiedRequest;
        expect(called.protocolVersion).toBe(era === 'modern' ? '2026-07-28' : '2025-11-25');
        if (era === 'modern') {
          // A 2026-07-28 result names the server in its _meta (no initialize handshake told it).
          expect(me.output.result?._meta?.['io.modelcontextprotocol/serverInfo']).toMatchObject({
            name: 'oauth-cache-1c-gateway',
          });
        }
      }, 240_000);
    });
  }
});
