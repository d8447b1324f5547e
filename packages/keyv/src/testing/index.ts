/**
 * Test support shared by the oauth-cache packages (`@oauth-cache/keyv/testing`): real servers only.
 * @packageDocumentation
 */
export { freePort } from './free-port.js';
export { parseCommandCalls } from './redis-command-stats.js';
export { type CommandSpan, RedisCommandMonitor, type RedisMonitorOptions } from './redis-monitor.js';
export { pingRedis } from './redis-ping.js';
export { type RedisServerHandle, type RedisServerOptions, startRedisServer } from './redis-server.js';
