/**
 * `@oauth-cache/reliability`: the harness of the reliability scenarios (real processes only),
 * shared by the vitest suite (`test/`) and the longer scripts (`scripts/`).
 * @packageDocumentation
 */
export * from './child-process.js';
export * from './emulator-process.js';
export * from './figures.js';
export * from './fs-faults.js';
export * from './http.js';
export * from './load.js';
export * from './login-burst.js';
export * from './oauth-flow.js';
export * from './oracles.js';
export * from './paths.js';
export * from './raw-socket.js';
export * from './scenarios/redis-outage.js';
export * from './scenarios/scale-out.js';
export * from './scenarios/server-crash.js';
export * from './server-process.js';
export * from './sqlite-check.js';
export * from './token-check.js';
