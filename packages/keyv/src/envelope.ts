import type Keyv from 'keyv';
import type { ExpiringValue } from './expiring.js';

/**
 * Keyv's stored envelope: `{"value": <the record>, "expires": <epoch ms>}`, serialized by Keyv's
 * serializer (`@keyv/serialize`). Both stores keep this exact format so a plain Keyv pointed at the
 * same table/database reads our records, and our reads accept what Keyv wrote.
 */
export interface Envelope {
  value: unknown;
  /** Absolute expiry (epoch ms); absent = no expiry. */
  expires?: number | undefined;
}

const COLON = 58;

/** @keyv/serialize's string unescaping: `:base64:…` is a Buffer, a leading `:` was added on write. */
function unescapeString(value: string): unknown {
  if (value.startsWith(':base64:')) return Buffer.from(value.slice(8), 'base64');
  return value.slice(1);
}

/** Apply {@link unescapeString} in place to every string value (not keys), like Keyv's reviver. */
function unescapeValues(node: unknown): void {
  if (typeof node !== 'object' || node === null) return;
  const container = node as Record<string, unknown>;
  for (const key of Object.keys(container)) {
    const value = container[key];
    if (typeof value === 'string') {
      if (value.charCodeAt(0) === COLON) {
        // defineProperty: a `__proto__` key must stay a plain property, never set the prototype.
        Object.defineProperty(container, key, {
          value: unescapeString(value),
          writable: true,
          enumerable: true,
          configurable: true,
        });
      }
    } else if (typeof value === 'object' && value !== null) {
      unescapeValues(value);
    }
  }
}

/**
 * Parse text written by Keyv's default serializer (`@keyv/serialize`), with the same result as its
 * `defaultDeserialize` but about 2.5x faster: `JSON.parse` without a reviver (a reviver disables
 * V8's fast path), then a walk that only touches strings starting with `:`.
 */
export function parseKeyvText(text: string): unknown {
  const data: unknown = JSON.parse(text);
  if (typeof data === 'string') return data.charCodeAt(0) === COLON ? unescapeString(data) : data;
  unescapeValues(data);
  return data;
}

/**
 * True when `JSON.stringify` would not write what Keyv's serializer writes for `node`: a string
 * value starting with `:` (Keyv escapes it), a Buffer or anything with `toJSON` (Keyv encodes those
 * itself), a function, symbol or bigint (the two disagree), or nesting too deep to walk cheaply.
 * Plain records have none of these, so they take the native serializer.
 */
function needsKeyvSerializer(node: unknown, depth: number): boolean {
  switch (typeof node) {
    case 'string':
      return node.charCodeAt(0) === COLON;
    case 'number':
    case 'boolean':
    case 'undefined':
      return false;
    case 'object': {
      if (node === null) return false;
      if (depth > 32 || typeof (node as { toJSON?: unknown }).toJSON === 'function') return true;
      if (Array.isArray(node)) {
        for (const item of node) if (needsKeyvSerializer(item, depth + 1)) return true;
        return false;
      }
      for (const key in node) {
        if (
          Object.hasOwn(node, key) &&
          needsKeyvSerializer((node as Record<string, unknown>)[key], depth + 1)
        ) {
          return true;
        }
      }
      return false;
    }
    default:
      return true;
  }
}

/** True when the envelope is still live at `now` (expired when `expires <= now`, like core). */
export function isLive(envelope: Envelope, now: number): boolean {
  return typeof envelope.expires !== 'number' || envelope.expires > now;
}

/** Encodes envelopes with a Keyv instance's serializer, decodes them with {@link parseKeyvText}. */
export class EnvelopeCodec {
  readonly #keyv: Keyv;

  /** `keyv` must use Keyv's default serializer: reads use {@link parseKeyvText}, its faster mirror. */
  constructor(keyv: Keyv) {
    this.#keyv = keyv;
  }

  /**
   * The text stored for `value` expiring at `expires`: Keyv's serializer's output, or for values it
   * would write as plain JSON anyway, V8's native `JSON.stringify` (several times faster than
   * Keyv's serializer, which builds the text in JavaScript; bulk imports write millions of these).
   * The native path answers synchronously (a bulk write then costs no promise per record); only
   * Keyv's serializer may answer with a promise.
   */
  encode(value: unknown, expires: number): string | Promise<string> {
    const serialize = this.#keyv.serialize;
    if (!serialize || !needsKeyvSerializer(value, 0)) return JSON.stringify({ value, expires });
    return serialize({ value, expires });
  }

  /**
   * The envelope of a stored text, or `undefined` for no row / a row that is not an envelope.
   * Synchronous (reads are on the hot path: no promise per decode); `await` on it still works.
   */
  decode(raw: unknown): Envelope | undefined {
    if (typeof raw !== 'string') return undefined;
    let data: unknown;
    try {
      data = parseKeyvText(raw);
    } catch {
      // Not ours (a foreign writer in a shared database): treat as absent rather than crash a read.
      return undefined;
    }
    if (typeof data !== 'object' || data === null || !('value' in data)) return undefined;
    const { value, expires } = data as { value: unknown; expires?: unknown };
    return { value, expires: typeof expires === 'number' ? expires : undefined };
  }

  /** The live value and expiry of a stored text at `now`, or `undefined`. */
  live(raw: unknown, now: number): ExpiringValue | undefined {
    const envelope = this.decode(raw);
    return envelope && isLive(envelope, now)
      ? { value: envelope.value, expiresAt: envelope.expires }
      : undefined;
  }

  /** The live value of a stored text at `now`, or `undefined`. */
  liveValue(raw: unknown, now: number): unknown {
    const envelope = this.decode(raw);
    return envelope && isLive(envelope, now) ? envelope.value : undefined;
  }
}
