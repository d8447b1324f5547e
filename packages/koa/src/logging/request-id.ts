import { randomUUID } from 'node:crypto';

/** An incoming request id is reused only if it is short and made of harmless characters. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's `X-Request-Id` when sane (no injection into logs or headers), else a new UUID. */
export function requestIdFrom(incoming: string | undefined): string {
  return incoming !== undefined && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
