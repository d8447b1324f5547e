import type { BatchOp } from '@oauth-cache/core';
import { type EncodeRecord, recordTexts } from '../batch-records.js';

/**
 * Most operations sent in one WRITE_BATCH script call. A larger `writeBatch` is split into several
 * calls, sent one after the other (each atomic on its own; see `writeBatch`). The bound keeps one call's payload and
 * the time Redis is blocked running it (~15 ms per 10k ops) small; the CLI's default batch (500
 * tokens, ~2.5k ops) is one call.
 */
export const MAX_OPS_PER_SCRIPT = 20_000;

/**
 * The one argument of a WRITE_BATCH call, as the script reads it after `cjson.decode`: the record
 * count R; per record its key, envelope text and ttl (ms); then per index key the key, P (plain
 * adds), G (ZADD GT adds), the expiry (epoch ms), P score/member pairs, G score/member pairs.
 */
export type ScriptPayload = Array<string | number>;

/**
 * The adds of one index key in a batch, netted per member in first-add order. Kept as parallel
 * arrays, with a member -> slot map only once the key has more than a few members: a bulk batch
 * has thousands of keys with one or two members (families, users) and one with thousands (the
 * token index), and this grouping runs for every token of an import.
 */
interface IndexPlan {
  members: string[];
  scores: number[];
  /** Apply with ZADD GT (the result still depends on the score already stored). */
  greater: boolean[];
  slots: Map<string, number> | undefined;
  /** Highest `ceil(score)` added: the key's expiry (it dies with its last member). */
  expireAt: number;
}

/**
 * A key or member as node-redis would have sent it: a lone surrogate becomes U+FFFD. JSON.stringify
 * escapes one as `\ud800`, which the script's cjson refuses (the whole batch would fail).
 */
function wellFormed(text: string): string {
  const t = text as string & { isWellFormed(): boolean; toWellFormed(): string };
  return t.isWellFormed() ? text : t.toWellFormed();
}

/** Members looked up by a linear scan below this count, through `slots` from it on. */
const LINEAR_LOOKUP = 8;

function slotOf(index: IndexPlan, member: string): number {
  if (index.slots !== undefined) return index.slots.get(member) ?? -1;
  const members = index.members;
  for (let i = 0; i < members.length; i++) if (members[i] === member) return i;
  return -1;
}

function addSlot(index: IndexPlan, member: string, score: number, greater: boolean): void {
  const slot = index.members.push(member) - 1;
  index.scores.push(score);
  index.greater.push(greater);
  if (index.slots !== undefined) index.slots.set(member, slot);
  else if (index.members.length >= LINEAR_LOOKUP) {
    index.slots = new Map(index.members.map((m, i) => [m, i]));
  }
}

/** How node-redis sends a double (ZADD score): infinities spelled the way Redis reads them. */
export function formatScore(score: number): string {
  if (score === Number.POSITIVE_INFINITY) return '+inf';
  if (score === Number.NEGATIVE_INFINITY) return '-inf';
  return String(score);
}

/** Append the `score member` pairs of `index` whose ZADD GT flag is `greater`. */
function pushMemberAdds(args: ScriptPayload, index: IndexPlan, greater: boolean): void {
  for (let i = 0; i < index.members.length; i++) {
    if (index.greater[i] === greater) args.push(formatScore(index.scores[i]!), index.members[i]!);
  }
}

/**
 * Fold one index add into what the batch has so far for that member, giving the same end state
 * as running the ZADDs one after the other:
 * - a plain add sets the score whatever was there, so the result no longer depends on Redis;
 * - a keepGreater add (ZADD GT) after it raises that known score: still a plain add of the max;
 * - keepGreater adds alone stay a ZADD GT of their max (the stored score may be higher).
 */
function foldMemberAdd(index: IndexPlan, member: string, score: number, keepGreater: boolean): void {
  const slot = slotOf(index, member);
  if (slot < 0) addSlot(index, member, score, keepGreater);
  else if (!keepGreater) {
    index.scores[slot] = score;
    index.greater[slot] = false;
  } else {
    index.scores[slot] = Math.max(index.scores[slot]!, score);
  }
}

/**
 * Group a slice of batch ops into one WRITE_BATCH call: records (key, envelope text, ttl ms) in op
 * order, then per index key its plain and ZADD GT member/score pairs and its expiry. Records with a
 * ttl <= 0 are skipped (already expired); a non-finite ttl throws before anything is sent.
 * One difference from sending the commands one by one: an already-dead member (score <= now) added
 * with live ones no longer deletes the key on its own PEXPIREAT; it stays as a dead member, which
 * reads ignore and `indexAdd`/`sweep` trim.
 */
export function planScriptCall(
  ops: readonly BatchOp[],
  now: number,
  encode: EncodeRecord,
): ScriptPayload | Promise<ScriptPayload> {
  // Synchronous for plain records: the caller can send the call before anything it issues next.
  const texts = recordTexts(ops, now, encode);
  return Array.isArray(texts)
    ? groupScriptCall(ops, texts)
    : texts.then((done) => groupScriptCall(ops, done));
}

/** The payload of `ops` whose live records' envelope texts are `texts`, in op order. */
function groupScriptCall(ops: readonly BatchOp[], texts: readonly string[]): ScriptPayload {
  const payload: ScriptPayload = [0]; // the record count, set below
  let records = 0;
  const indexes = new Map<string, IndexPlan>();
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.op === 'set') {
      if (op.ttlMs <= 0) continue;
      payload.push(wellFormed(op.key), texts[records]!, String(Math.ceil(op.ttlMs)));
      records++;
    } else {
      const key = wellFormed(op.key);
      const member = wellFormed(op.member);
      const keepGreater = op.keepGreater === true;
      const at = Math.ceil(op.score);
      const index = indexes.get(key);
      if (index === undefined) {
        // Most index keys of a bulk batch get one member (a family, a user): arrays of one.
        indexes.set(key, {
          members: [member],
          scores: [op.score],
          greater: [keepGreater],
          slots: undefined,
          expireAt: at,
        });
        continue;
      }
      foldMemberAdd(index, member, op.score, keepGreater);
      if (at > index.expireAt) index.expireAt = at;
    }
  }
  payload[0] = records;
  // forEach: a for-of over the entries allocates a [key, value] pair per index key.
  indexes.forEach((index, key) => {
    let greater = 0;
    for (const isGreater of index.greater) if (isGreater) greater++;
    payload.push(key, index.members.length - greater, greater, String(index.expireAt));
    // Plain adds first, then the ZADD GT ones: the order WRITE_BATCH reads them in.
    pushMemberAdds(payload, index, false);
    pushMemberAdds(payload, index, true);
  });
  return payload;
}
