import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** Options of {@link writeLegacyDump}. */
export interface LegacyDumpSpec {
  /** Number of access token entries. */
  access: number;
  /** Number of refresh token entries. */
  refresh: number;
  /** Every `expiredEvery`-th entry (1-based) gets an `exp` in the past. 0 = none. */
  expiredEvery?: number;
  /** Distinct logins the entries are spread over. Default 1000. */
  users?: number;
  /** Changes every token and password. Default `seed`. */
  seed?: string;
  /** Base time for `exp` (epoch ms). Default now. */
  now?: number;
}

/** The token of entry `i` (0-based) of a section: deterministic, so tests need not keep 1M tokens. */
export function legacyToken(seed: string, kind: 'access' | 'refresh', i: number): string {
  return createHash('sha256').update(`${seed}:${kind}:${i}`).digest('base64url');
}

/** The password of entry `i`: recognisable, so a raw scan of a store can look for it. */
export function legacyPassword(seed: string, i: number): string {
  return `pw-${seed}-${i}`;
}

/** The login of entry `i`. */
export function legacyLogin(i: number, users = 1000): string {
  return `user${i % users}`;
}

/** True when entry `i` (0-based) is written expired. */
export function isExpiredEntry(i: number, expiredEvery = 0): boolean {
  return expiredEvery > 0 && (i + 1) % expiredEvery === 0;
}

/** Naive ISO time as Python's `datetime.isoformat()` writes it (microseconds, no offset), in UTC. */
function naiveIso(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('Z', '')
    .replace(/\.(\d{3})$/, '.$1000');
}

/**
 * Write a legacy dump of the old Python server's shape, streamed (constant memory for any size):
 * `{"access_tokens": {tok: {login, password, exp}}, "refresh_tokens": {tok: {..., rotation_counter}}}`.
 * `exp` values are naive UTC times; live entries expire 1 to 13 days from `now`.
 */
export async function writeLegacyDump(path: string, spec: LegacyDumpSpec): Promise<void> {
  const seed = spec.seed ?? 'seed';
  const users = spec.users ?? 1000;
  const now = spec.now ?? Date.now();
  const out = createWriteStream(path);
  let block = '';
  const emit = async (text: string): Promise<void> => {
    block += text;
    if (block.length >= 1 << 16) {
      const ok = out.write(block);
      block = '';
      if (!ok) await once(out, 'drain');
    }
  };
  const section = async (kind: 'access' | 'refresh', count: number): Promise<void> => {
    await emit(`"${kind}_tokens": {`);
    for (let i = 0; i < count; i++) {
      const exp = isExpiredEntry(i, spec.expiredEvery)
        ? now - 3600_000 - i
        : now + 86_400_000 + ((i * 7919) % 1_036_800_000);
      const entry: Record<string, unknown> = {
        login: legacyLogin(i, users),
        password: legacyPassword(seed, i),
        exp: naiveIso(exp),
      };
      if (kind === 'refresh') entry.rotation_counter = i % 3;
      await emit(
        `${i === 0 ? '' : ', '}\n  ${JSON.stringify(legacyToken(seed, kind, i))}: ${JSON.stringify(entry)}`,
      );
    }
    await emit('\n}');
  };
  await emit('{');
  await section('access', spec.access);
  await emit(', ');
  await section('refresh', spec.refresh);
  await emit('}\n');
  out.end(block);
  await once(out, 'finish');
}
