#!/usr/bin/env node
/**
 * CLI: `node dist/main.js` (NOT 1C: a development emulator).
 * Env: ONEC_EMULATOR_PORT (8001), ONEC_EMULATOR_HOST (127.0.0.1), ONEC_EMULATOR_USERS (users JSON file),
 * ONEC_EMULATOR_BASE (publication path, default empty), ONEC_EMULATOR_SERVICE_ROOT (mcp),
 * ONEC_EMULATOR_DELAY_MS (hold each /rpc call, default 0).
 */
import { readEmulatorEnv } from './env.js';
import { NOT_1C_NOTICE, startEmulator } from './server.js';

async function main(): Promise<void> {
  const options = readEmulatorEnv(process.env);
  const emulator = await startEmulator({
    ...options,
    onCall: (call) => {
      const what = [call.rpcMethod, call.target].filter(Boolean).join(' ');
      console.log(
        `${call.httpMethod} ${call.path} ${what ? `${what} ` : ''}user=${call.user ?? '-'} -> ${call.status}`,
      );
    },
  });
  console.log(`onec-emulator: ${NOT_1C_NOTICE}.`);
  console.log(`onec-emulator: listening on ${emulator.url}`);
  console.log(
    `onec-emulator: service URL ${emulator.serviceUrl} (users: ${emulator.users.map((u) => u.login).join(', ')})`,
  );
  if (options.delayMs) console.log(`onec-emulator: every /rpc call is held ${options.delayMs} ms`);
  const stop = () => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`onec-emulator: ${(error as Error).message}`);
  process.exit(2);
});
