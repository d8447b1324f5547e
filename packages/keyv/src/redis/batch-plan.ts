import type { BatchOp } from '@oauth-cache/core';
import { assertTtl } from '../errors.js';

/**
 * Most operations sent in one WRITE_BATCH script call. A larger `writeBatch` is split into several
 * calls run one after the other (each atomic on its own). The bound keeps one call's argument list
 * (~3 strings per op) and the time Redis is blocked running it (~15 ms per 10k ops) small; the
 * CLI's default batch (2000 tokens, ~10k ops) is one call.
 */
export const MAX_OPS_PER_SCRIPT = 20_000;

/**
 * Most keys + arguments in one script call. node-redis pushes them with a spread call, which
 * overflows the default V8 stack at about 50k (measured: 45k fine, 52k `RangeError`); a call over
 * this bound is split in two. The CLI's default batch (2000 legacy tokens) is about 26k.
 */
export const MAX_ARGS_PER_SCRIPT = 32_000;

/** One script call: `keys` and `args` as WRITE_BATCH (scripts.ts) reads them. */
export interface ScriptCall {
  keys: string[];
  args: string[];
}

/** Turns a record into its stored text (the store's envelope codec). */
export type EncodeRecord = (value: unknown, expires: number) => Promise<string> | string;

/** What one `(index key, member)` nets to after all the batch's adds of it, in op order. */
interface MemberAdd {
  score: number;
  /** Apply with ZADD GT (the result still depends on the score already stored). */
  greater: boolean;
}

interface IndexPlan {
  members: Map<string, MemberAdd>;
  /** Highest `ceil(score)` added: the key's expiry (it dies with its last member). */
  expireAt: number;
}

/** How node-redis sends a double (ZADD score): infinities spelled the way Redis reads them. */
function formatScore(score: number): string {
  if (score === Number.POSITIVE_INFINITY) return '+inf';
  if (score === Number.NEGATIVE_INFINITY) return '-inf';
  return String(score);
}

/**
 * Fold one index add into what the batch has so far for that member, giving the same end state
 * as running the ZADDs one after the other:
 * - a plain add sets the score whatever was there, so the result no longer depends on Redis;
 * - a keepGreater add (ZADD GT) after it raises that known score: still a plain add of the max;
 * - keepGreater adds alone stay a ZADD GT of their max (the stored score may be higher).
 */
function foldMemberAdd(previous: MemberAdd | undefined, score: number, keepGreater: boolean): MemberAdd {
  if (!keepGreater || previous === undefined) return { score, greater: keepGreater };
  return { score: Math.max(previous.score, score), greater: previous.greater };
}

/**
 * Group a slice of batch ops into one WRITE_BATCH call: records (key, envelope text, ttl ms) in op
 * order, then per index key its plain and ZADD GT member/score pairs and its expiry. Records with a
 * ttl <= 0 are skipped (already expired); a non-finite ttl throws before anything is sent.
 * One difference from sending the commands one by one: an already-dead member (score <= now) added
 * with live ones no longer deletes the key on its own PEXPIREAT; it stays as a dead member, which
 * reads ignore and `indexAdd`/`sweep` trim.
 */
export async function planScriptCall(
  ops: readonly BatchOp[],
  now: number,
  encode: EncodeRecord,
): Promise<ScriptCall> {
  const keys: string[] = []; // record keys first, index keys after them
  const args: string[] = ['0']; // ARGV[1]: the record count, set below
  const indexes = new Map<string, IndexPlan>();
  for (const op of ops) {
    if (op.op === 'set') {
      assertTtl(op.ttlMs);
      if (op.ttlMs <= 0) continue;
      const ttl = Math.ceil(op.ttlMs);
      keys.push(op.key);
      args.push(await encode(op.value, now + ttl), String(ttl));
    } else {
      let index = indexes.get(op.key);
      if (index === undefined) {
        index = { members: new Map(), expireAt: Number.NEGATIVE_INFINITY };
        indexes.set(op.key, index);
      }
      index.members.set(
        op.member,
        foldMemberAdd(index.members.get(op.member), op.score, op.keepGreater === true),
      );
      index.expireAt = Math.max(index.expireAt, Math.ceil(op.score));
    }
  }
  args[0] = String(keys.length);
  for (const [key, index] of indexes) {
    const plain: string[] = [];
    const greater: string[] = [];
    for (const [member, add] of index.members) {
      (add.greater ? greater : plain).push(formatScore(add.score), member);
    }
    keys.push(key);
    args.push(String(plain.length / 2), String(greater.length / 2), String(index.expireAt));
    for (const text of plain) args.push(text);
    for (const text of greater) args.push(text);
  }
  return { keys, args };
}
