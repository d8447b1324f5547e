// The bench's tokens, derived the same way by hot-path.bench.mjs (requests) and hot-path-server.mjs
// (issuance): no list of 10,000 tokens crosses the process boundary.
import { createHmac } from 'node:crypto';

/** Token `i` of a run seeded by `seed`: 43 base64url characters, like core's own tokens. */
export const tokenAt = (seed, i) => createHmac('sha256', seed).update(String(i)).digest('base64url');

/** User id of token `i`; all of one length, so every variant answers the same number of bytes. */
export const userAt = (i) => `u${String(i).padStart(6, '0')}`;
