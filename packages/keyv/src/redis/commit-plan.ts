import type { Transaction } from '@oauth-cache/core';
import type { EncodeRecord } from '../batch-records.js';
import { assertTtl } from '../errors.js';
import { formatScore } from './batch-plan.js';

/**
 * Most arguments one ZREM inside the COMMIT script unpacks (Lua's C stack holds ~8000): a larger
 * `indexRemove` travels as several groups.
 */
const UNPACK_ARGS = 1000;

/**
 * The arguments of one COMMIT script call (see `commit-script.ts`): every key the transaction
 * names, once, in KEYS; in ARGV the channel, `now`, the precondition and op counts, then each
 * precondition and op as a one-letter code, the 1-based KEYS slot of its key and its operands.
 *
 * | code | meaning | operands |
 * | --- | --- | --- |
 * | `p` / `a` | present / absent | - |
 * | `r` | room: live count <= limit (`cap - adding`) | limit |
 * | `c` | count: live count == equals | equals |
 * | `s` | SET PX | envelope text, ttl (ms) |
 * | `d` | DEL one key | - |
 * | `i` | drop dead members, ZADD (GT) | member, score, `1` = keepGreater |
 * | `m` | ZREM | n, n members |
 * | `x` | DEL an index | - |
 */
export interface CommitCall {
  keys: string[];
  /** ARGV after the channel: `now`, the counts, then the codes and operands. */
  args: string[];
}

/** Builds KEYS (each key once) and hands out their 1-based slots as strings. */
class KeySlots {
  readonly keys: string[] = [];
  readonly #slots = new Map<string, string>();

  slot(key: string): string {
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = String(this.keys.push(key));
      this.#slots.set(key, slot);
    }
    return slot;
  }
}

/** A number Redis and the script read back exactly (`+inf`/`-inf` for infinities); NaN throws. */
function numberArg(name: string, value: number): string {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number, got ${String(value)}`);
  }
  return formatScore(value);
}

/**
 * The COMMIT call of `tx`. Records are encoded exactly as `set` encodes them (envelope expiring at
 * `Date.now() + ceil(ttl)`, SET PX ceil(ttl)); a set with a ttl <= 0 is a delete, as in `set`.
 * Everything is validated here, before anything is sent: the script's preconditions are checked
 * before its first write, but a Redis script is not rolled back when a later command fails.
 * Synchronous unless the codec needs Keyv's (async) serializer for a value.
 */
export function planCommit(tx: Transaction, encode: EncodeRecord): CommitCall | Promise<CommitCall> {
  if (typeof tx.now !== 'number' || !Number.isFinite(tx.now)) {
    throw new TypeError(`tx.now must be a finite epoch ms, got ${String(tx.now)}`);
  }
  const slots = new KeySlots();
  const require = tx.require ?? [];
  const args: Array<string | Promise<string>> = [String(tx.now), String(require.length), '0'];
  for (const p of require) {
    switch (p.if) {
      case 'present':
        args.push('p', slots.slot(p.key));
        break;
      case 'absent':
        args.push('a', slots.slot(p.key));
        break;
      case 'room':
        args.push('r', slots.slot(p.index), numberArg('room cap - adding', p.cap - p.adding));
        break;
      case 'count':
        args.push('c', slots.slot(p.index), numberArg('count equals', p.equals));
        break;
      default:
        throw new TypeError(`unknown precondition ${String((p as { if: unknown }).if)}`);
    }
  }
  const now = Date.now();
  let ops = 0;
  let waiting = false;
  for (const op of tx.ops) {
    switch (op.op) {
      case 'set': {
        assertTtl(op.ttlMs);
        if (typeof op.value === 'symbol') throw new TypeError('a symbol cannot be stored');
        if (op.ttlMs <= 0) {
          // Keyv reads a TTL of 0 as "never expires": an already-expired write is a delete.
          args.push('d', slots.slot(op.key));
        } else {
          const ttl = Math.ceil(op.ttlMs);
          const text = encode(op.value, now + ttl);
          if (typeof text !== 'string') waiting = true;
          args.push('s', slots.slot(op.key), text, String(ttl));
        }
        ops++;
        break;
      }
      case 'delete':
        for (const key of op.keys) {
          args.push('d', slots.slot(key));
          ops++;
        }
        break;
      case 'indexAdd':
        args.push(
          'i',
          slots.slot(op.key),
          op.member,
          numberArg('score', op.score),
          op.keepGreater === true ? '1' : '0',
        );
        ops++;
        break;
      case 'indexRemove':
        for (let i = 0; i < op.members.length; i += UNPACK_ARGS) {
          const group = op.members.slice(i, i + UNPACK_ARGS);
          args.push('m', slots.slot(op.key), String(group.length), ...group);
          ops++;
        }
        break;
      case 'indexDelete':
        args.push('x', slots.slot(op.key));
        ops++;
        break;
      default:
        throw new TypeError(`unknown op ${String((op as { op: unknown }).op)}`);
    }
  }
  args[2] = String(ops);
  if (!waiting) return { keys: slots.keys, args: args as string[] };
  return Promise.all(args).then((done) => ({ keys: slots.keys, args: done }));
}
