#!/usr/bin/env node
/**
 * Development demo: start the 1C emulator (NOT 1C) on 127.0.0.1:8001 and the gateway on
 * 127.0.0.1:8000 pointing at it, with the default SQLite store in ./data and ENVIRONMENT=development
 * (secrets generated once into ./data/dev-secrets.json). Demo logins: demo/demo, ivanov/Пароль123.
 *
 * Run from the repository root after `pnpm install && pnpm build`:
 *   pnpm --filter @oauth-cache/server dev:emulator
 * Environment variables set before running still win (e.g. MCP_PORT=9000).
 */
import { startEmulator } from '@oauth-cache/onec-emulator';

const emulatorPort = Number(process.env.ONEC_EMULATOR_PORT ?? 8001);
const emulator = await startEmulator({ port: emulatorPort, host: '127.0.0.1' });
process.stdout.write(
  `1C emulator (NOT 1C: a development emulator) on ${emulator.url}, service ${emulator.serviceUrl}\n`,
);

process.env.ENVIRONMENT ??= 'development';
process.env.MCP_ONEC_URL ??= emulator.url;
process.env.MCP_HOST ??= '127.0.0.1';
process.env.MCP_PORT ??= '8000';
// The MCP Inspector's page (port 6274) calls /mcp from the browser in its direct mode: let it.
process.env.MCP_ALLOWED_ORIGINS ??= 'http://localhost:6274,http://127.0.0.1:6274';

const { loadServerConfig, startServer } = await import('../dist/index.js');
const { ConfigError } = await import('@oauth-cache/core');
const { createLogger } = await import('@oauth-cache/koa');

let loaded;
try {
  loaded = loadServerConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`invalid configuration\n${error.issues.map((i) => `  - ${i}`).join('\n')}\n`);
    await emulator.close();
    process.exit(78);
  }
  throw error;
}
const logger = createLogger({ level: loaded.config.logLevel, name: 'oauth-cache-server' });
for (const warning of loaded.warnings) logger.warn(warning);
const server = await startServer(loaded.config, { logger });
process.stdout.write(
  [
    '',
    `MCP endpoint:   ${server.publicUrl}/mcp`,
    `Discovery:      ${server.publicUrl}/.well-known/oauth-authorization-server`,
    `Health:         ${server.publicUrl}/health`,
    'Demo 1C users:  demo / demo, ivanov / Пароль123 (noaccess / noaccess has no right to the service)',
    'Try it:         npx @modelcontextprotocol/inspector  ->  Streamable HTTP, URL above',
    'Stop:           Ctrl+C',
    '',
  ].join('\n'),
);

let stopping = false;
const stop = async () => {
  if (stopping) process.exit(1);
  stopping = true;
  await server.close();
  await emulator.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
