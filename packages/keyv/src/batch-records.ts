import type { BatchOp } from '@oauth-cache/core';
import { assertTtl } from './errors.js';

/** Turns a record into its stored text (the store's envelope codec). */
export type EncodeRecord = (value: unknown, expires: number) => Promise<string> | string;

/**
 * The stored texts of a batch's live records (`set` ops with a TTL > 0), in op order; both stores'
 * `writeBatch` build on it. Synchronous unless the codec needs Keyv's (async) serializer for a
 * value: a store can then queue the batch on its connection before `writeBatch` returns, ahead of
 * anything its caller issues next (core's cap check follows its batch). Throws on a bad TTL before
 * anything is written.
 */
export function recordTexts(
  ops: readonly BatchOp[],
  now: number,
  encode: EncodeRecord,
): string[] | Promise<string[]> {
  const texts: Array<string | Promise<string>> = [];
  let waiting = false;
  for (const op of ops) {
    if (op.op !== 'set') continue;
    assertTtl(op.ttlMs);
    if (op.ttlMs <= 0) continue;
    const text = encode(op.value, now + Math.ceil(op.ttlMs));
    if (typeof text !== 'string') waiting = true;
    texts.push(text);
  }
  return waiting ? Promise.all(texts) : (texts as string[]);
}
