import { describe, expect, it } from 'vitest';
import { JsonGrammar } from '../src/json/grammar.js';
import { JsonTokenizer } from '../src/json/tokenizer.js';
import { type DumpItem, DumpShapeError, LegacyDumpReader } from '../src/legacy/dump-reader.js';
import { checkLegacyEntry } from '../src/legacy/entry.js';
import { formatPosition } from '../src/legacy/position.js';
import type { RawEntry } from '../src/legacy/raw-entry.js';
import { ZoneResolver } from '../src/legacy/zone.js';

function read(text: string, chunk = text.length): DumpItem[] {
  const reader = new LegacyDumpReader();
  const tokenizer = new JsonTokenizer(new JsonGrammar(reader));
  const items: DumpItem[] = [];
  for (let i = 0; i < text.length; i += chunk) {
    tokenizer.write(text.slice(i, i + chunk));
    items.push(...reader.drain());
  }
  tokenizer.end();
  items.push(...reader.drain());
  return items;
}

const entries = (items: DumpItem[]): RawEntry[] =>
  items.flatMap((i) => (i.kind === 'entry' ? [i.entry] : []));

const DUMP = `{
  "version": {"nested": [1, {"access_tokens": {"not": "an entry"}}]},
  "access_tokens": {
    "tA": {"login": "u", "password": "p", "exp": "2030-01-01T00:00:00", "extra": {"deep": [1, 2]}},
    "tB": {"login": {"x": 1}, "login": "dup", "exp": null}
  },
  "refresh_tokens": {"tR": [1, 2], "tS": 7, "tT": {"login": "u", "password": "", "exp": "2030-01-01T00:00:00", "rotation_counter": 1.5}}
}`;

describe('LegacyDumpReader', () => {
  it('yields every entry with section, rank and key position, whatever the chunk size', () => {
    const whole = read(DUMP);
    for (const size of [1, 2, 3, 7, 64]) expect(read(DUMP, size)).toEqual(whole);
    const found = entries(whole);
    expect(found.map((e) => [e.token, formatPosition(e.position)])).toEqual([
      ['tA', 'access_tokens[#1] (line 4, col 5)'],
      ['tB', 'access_tokens[#2] (line 5, col 5)'],
      ['tR', 'refresh_tokens[#1] (line 7, col 22)'],
      ['tS', 'refresh_tokens[#2] (line 7, col 36)'],
      ['tT', 'refresh_tokens[#3] (line 7, col 45)'],
    ]);
    expect(whole.filter((i) => i.kind === 'warning')).toHaveLength(1);
  });

  it('keeps only known fields, marks containers and duplicates', () => {
    const [a, b, r, s] = entries(read(DUMP));
    expect(a!.fields).toEqual({ login: 'u', password: 'p', exp: '2030-01-01T00:00:00' });
    expect(b!.fields).toEqual({ login: { container: 'object' }, exp: null });
    expect(b!.duplicateFields).toEqual(['login']);
    expect(r!.type).toBe('array');
    expect(s!.type).toBe('number');
  });

  it('validation lists every problem of an entry', () => {
    const zone = new ZoneResolver('UTC');
    const [a, b, r, s, t] = entries(read(DUMP)).map((e) => checkLegacyEntry(e, zone));
    expect(a).toMatchObject({
      ok: true,
      entry: { kind: 'access', login: 'u', password: 'p', expiresAt: Date.parse('2030-01-01T00:00:00Z') },
    });
    expect(b).toEqual({
      ok: false,
      reasons: [
        'login: appears more than once',
        'login: expected a string, got object',
        'missing field password',
        'exp: expected an ISO-8601 date-time string, got null',
      ],
    });
    expect(r).toEqual({
      ok: false,
      reasons: ['entry must be an object with login, password and exp, got array'],
    });
    expect(s).toEqual({
      ok: false,
      reasons: ['entry must be an object with login, password and exp, got number'],
    });
    expect(t).toEqual({ ok: false, reasons: ['rotation_counter: expected a non-negative integer, got 1.5'] });
  });

  it('an empty password is valid (1C allows it); an empty login is not', () => {
    const zone = new ZoneResolver('UTC');
    const [ok, bad] = entries(
      read(
        '{"access_tokens": {"a": {"login": "u", "password": "", "exp": "2030-01-01T00:00"}, "b": {"login": "", "password": "x", "exp": "2030-01-01T00:00"}}}',
      ),
    ).map((e) => checkLegacyEntry(e, zone));
    expect(ok!.ok).toBe(true);
    expect(bad).toEqual({ ok: false, reasons: ['login: must not be empty'] });
  });

  it('refuses a dump that is not an object of sections', () => {
    expect(() => read('[]')).toThrow(DumpShapeError);
    expect(() => read('"x"')).toThrow(/must be a JSON object/);
    expect(() => read('{"refresh_tokens": null}')).toThrow(
      /refresh_tokens must be an object.*\(line 1, col 20\)/,
    );
    expect(entries(read('{}'))).toEqual([]);
  });
});
