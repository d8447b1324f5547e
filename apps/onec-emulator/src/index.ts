/**
 * `@oauth-cache/onec-emulator`: NOT 1C: a development emulator of a 1C:Enterprise MCP HTTP service.
 */
export { authenticate, type BasicAuthOutcome, parseBasicAuth } from './basic-auth.js';
export type { EmulatorCall } from './calls.js';
export { readEmulatorEnv } from './env.js';
export { handleRpc, RPC_ERRORS, type RpcOutcome } from './json-rpc.js';
export { type Emulator, type EmulatorOptions, MAX_DELAY_MS, NOT_1C_NOTICE, startEmulator } from './server.js';
export { DEFAULT_USERS_FILE, type EmulatorUser, loadUsersFile, parseUsers } from './users.js';
