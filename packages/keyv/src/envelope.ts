import type Keyv from 'keyv';

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

/** True when the envelope is still live at `now` (expired when `expires <= now`, like core). */
export function isLive(envelope: Envelope, now: number): boolean {
  return typeof envelope.expires !== 'number' || envelope.expires > now;
}

/** Encodes and decodes envelopes with the serializer of a given Keyv instance. */
export class EnvelopeCodec {
  readonly #keyv: Keyv;

  constructor(keyv: Keyv) {
    this.#keyv = keyv;
  }

  /** The text stored for `value` expiring at `expires`. */
  async encode(value: unknown, expires: number): Promise<string> {
    const serialize = this.#keyv.serialize;
    if (!serialize) return JSON.stringify({ value, expires });
    return serialize({ value, expires });
  }

  /** The envelope of a stored text, or `undefined` for no row / a row that is not an envelope. */
  async decode(raw: unknown): Promise<Envelope | undefined> {
    if (typeof raw !== 'string') return undefined;
    const deserialize = this.#keyv.deserialize;
    let data: unknown;
    try {
      data = deserialize ? await deserialize(raw) : JSON.parse(raw);
    } catch {
      // Not ours (a foreign writer in a shared database): treat as absent rather than crash a read.
      return undefined;
    }
    if (typeof data !== 'object' || data === null || !('value' in data)) return undefined;
    const { value, expires } = data as { value: unknown; expires?: unknown };
    return { value, expires: typeof expires === 'number' ? expires : undefined };
  }

  /** The live value of a stored text at `now`, or `undefined`. */
  async liveValue(raw: unknown, now: number): Promise<unknown> {
    const envelope = await this.decode(raw);
    return envelope && isLive(envelope, now) ? envelope.value : undefined;
  }
}
