import type { SecurityEvent, SecurityEventType, TokenCache } from '@oauth-cache/core';
import type { Logger } from 'pino';

/** Events that mean an attack or a misconfiguration: logged at `warn`, the rest at `info`. */
const WARN_EVENTS: ReadonlySet<SecurityEventType> = new Set([
  'reuse_detected',
  'family_revoked',
  'client_mismatch',
  'seal_failed',
  'ephemeral_keys',
  'capacity_reached',
]);

/**
 * Log the cache's security events on a child logger named `security`. Events carry ids and digests,
 * never raw tokens; a refresh token's reuse also names the presenting client (`clientId`) and its
 * network address (`clientAddress`, when the token endpoint passed it). Returns a function that detaches the listener.
 */
export function attachSecurityLog(cache: Pick<TokenCache, 'events'>, logger: Logger): () => void {
  // `name` as a child binding: with an unnamed parent (createLogger's default) lines read `"name":"security"`.
  const security = logger.child({ name: 'security' });
  const onSecurity = (event: SecurityEvent) => {
    const fields = { event: event.type, ...event };
    if (WARN_EVENTS.has(event.type)) security.warn(fields, `security: ${event.type}`);
    else security.info(fields, `security: ${event.type}`);
  };
  cache.events.on('security', onSecurity);
  return () => {
    cache.events.off('security', onSecurity);
  };
}
