import { type EmulatorOptions, MAX_DELAY_MS } from './server.js';

/** Turn `ONEC_EMULATOR_*` variables into {@link EmulatorOptions}. Throws an Error naming the bad variable. */
export function readEmulatorEnv(env: NodeJS.ProcessEnv): EmulatorOptions {
  const rawPort = env.ONEC_EMULATOR_PORT?.trim() || '8001';
  if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65535) {
    throw new Error(`ONEC_EMULATOR_PORT: expected an integer from 0 to 65535, got "${rawPort}"`);
  }
  const options: EmulatorOptions = {
    port: Number(rawPort),
    host: env.ONEC_EMULATOR_HOST?.trim() || '127.0.0.1',
  };
  const rawDelay = env.ONEC_EMULATOR_DELAY_MS?.trim();
  if (rawDelay) {
    if (!/^\d{1,7}$/.test(rawDelay) || Number(rawDelay) > MAX_DELAY_MS) {
      throw new Error(
        `ONEC_EMULATOR_DELAY_MS: expected whole milliseconds from 0 to ${MAX_DELAY_MS}, got "${rawDelay}"`,
      );
    }
    options.delayMs = Number(rawDelay);
  }
  if (env.ONEC_EMULATOR_USERS?.trim()) options.usersFile = env.ONEC_EMULATOR_USERS.trim();
  if (env.ONEC_EMULATOR_BASE !== undefined) options.basePath = env.ONEC_EMULATOR_BASE;
  if (env.ONEC_EMULATOR_SERVICE_ROOT?.trim()) options.serviceRoot = env.ONEC_EMULATOR_SERVICE_ROOT.trim();
  return options;
}
