/**
 * Where the console's event ring is fed from. Two sources, each attached in one place:
 * - the cache's `security` events (reuse, revocations, operator revocations...);
 * - the server's own security log lines (failed logins, lockouts, cross-site posts, origin-guard
 *   refusals, refused client metadata documents, console sign-in failures), which go through
 *   {@link ServerEvents.report}: one call writes the log line and records the event, so the page
 *   and the log can never disagree. The login outcomes also count `login_attempts_total`.
 */
import type { SecurityEvent, TokenCache } from '@oauth-cache/core';
import type { Logger } from 'pino';
import type { EventRing } from './event-ring.js';
import type { ServerMetrics } from './server-metrics.js';
import { userLabel } from './views.js';

/** Fields of a server event line: `event` names it; the rest are the log line's own fields. */
export interface ServerEventFields {
  event: string;
  clientAddress?: string;
  user?: string;
  clientId?: string;
  reason?: string;
  path?: string;
  [field: string]: unknown;
}

/** Writes a security log line and feeds the console. */
export interface ServerEvents {
  report(level: 'info' | 'warn', fields: ServerEventFields, message: string): void;
}

/** Server events the console's ring keeps (the rest are only logged). */
const RING_EVENTS: ReadonlySet<string> = new Set([
  'login_failed',
  'login_rate_limited',
  'login_cross_site',
  'login_form_refused',
  'request_origin_refused',
  'client_metadata_refused',
  'console_sign_in_failed',
  'console_sign_in_limited',
  'console_post_refused',
]);

/** `login_attempts_total{result}` by login event. */
const LOGIN_RESULTS: Readonly<Record<string, string>> = {
  login_ok: 'ok',
  login_failed: 'failed',
  login_rate_limited: 'limited',
  login_forbidden: 'forbidden',
};

/** The reporter; without a ring or metrics (embedding, tests) it only logs. */
export function serverEvents(
  logger: Logger,
  sinks: { ring?: EventRing; metrics?: ServerMetrics } = {},
): ServerEvents {
  return {
    report(level, fields, message) {
      if (level === 'warn') logger.warn(fields, message);
      else logger.info(fields, message);
      const login = LOGIN_RESULTS[fields.event];
      if (login) sinks.metrics?.logins.inc({ result: login });
      if (!sinks.ring || !RING_EVENTS.has(fields.event)) return;
      sinks.ring.record({
        at: Date.now(),
        type: fields.event,
        level,
        ...(typeof fields.user === 'string' ? { user: fields.user } : {}),
        ...(typeof fields.clientId === 'string' ? { clientId: fields.clientId } : {}),
        ...(typeof fields.clientAddress === 'string' ? { address: fields.clientAddress } : {}),
        ...(typeof fields.reason === 'string'
          ? { reason: fields.reason }
          : typeof fields.limit === 'string'
            ? { reason: fields.limit }
            : {}),
        ...(typeof fields.path === 'string' ? { path: fields.path } : {}),
      });
    },
  };
}

/** Events that mean an attack or a misconfiguration (as the security log grades them). */
const WARN_TYPES = new Set([
  'reuse_detected',
  'family_revoked',
  'client_mismatch',
  'seal_failed',
  'ephemeral_keys',
  'capacity_reached',
]);

/**
 * Record every cache security event in the ring. The token id (`tokenId`) is left out: the console
 * shows nothing that names a token. Returns the detach function.
 */
export function attachSecurityEvents(cache: Pick<TokenCache, 'events'>, ring: EventRing): () => void {
  const onSecurity = (event: SecurityEvent) => {
    const actor = actorText(event.actor);
    ring.record({
      at: typeof event.at === 'number' ? event.at : Date.now(),
      type: event.type,
      level: WARN_TYPES.has(event.type) ? 'warn' : 'info',
      ...(event.userId || event.userHash
        ? {
            user: userLabel({
              userHash: event.userHash ?? '',
              ...(event.userId ? { userId: event.userId } : {}),
            }),
          }
        : {}),
      ...(event.clientId ? { clientId: event.clientId } : {}),
      ...(event.clientAddress ? { address: event.clientAddress } : {}),
      ...(event.reason ? { reason: event.reason } : {}),
      ...(actor ? { actor } : {}),
    });
  };
  cache.events.on('security', onSecurity);
  return () => {
    cache.events.off('security', onSecurity);
  };
}

/** `console@10.0.0.5` from an `OperatorActor` (or a plain string). */
function actorText(actor: unknown): string | undefined {
  if (typeof actor === 'string') return actor;
  if (typeof actor !== 'object' || actor === null) return undefined;
  const { operator, address } = actor as { operator?: unknown; address?: unknown };
  if (typeof operator !== 'string') return undefined;
  return typeof address === 'string' ? `${operator}@${address}` : operator;
}
