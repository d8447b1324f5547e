/**
 * `@oauth-cache/server`: the MCP gateway for 1C with a persistent OAuth 2.1 authorization server.
 * Run `node dist/main.js` (see README); import {@link startServer} to embed or test it.
 */
export { type AppDeps, createApp } from './app.js';
export { DEV_SECRETS_FILE, type DevSecrets, loadOrCreateDevSecrets } from './config/dev-secrets.js';
export { type ServerEnv, serverEnvSchema } from './config/env-schema.js';
export { type LoadedConfig, loadServerConfig, type ServerConfig } from './config/server-config.js';
export {
  type HostPattern,
  isLoopbackAddress,
  normalizeOrigin,
  parseHostList,
  parseOriginList,
  type RequestOriginRules,
  type RequestOriginRulesOptions,
  requestOriginRules,
} from './http/request-origin-rules.js';
export { createGatewayServer, type Forward, GATEWAY_INFO } from './mcp/gateway-server.js';
export { GATEWAY_ERRORS, type OneCCredentials, OneCRpcClient, OneCRpcError } from './mcp/onec-rpc.js';
export { MAX_HEADER_BYTES, type RunningServer, type StartServerOptions, startServer } from './server.js';
