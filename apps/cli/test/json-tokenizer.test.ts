import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonGrammar } from '../src/json/grammar.js';
import { JsonSyntaxError } from '../src/json/syntax-error.js';
import { JsonTokenizer } from '../src/json/tokenizer.js';
import { ValueBuilder } from './helpers/value-builder.js';

/** Parse `text` fed in pieces cut at `cuts` (sorted offsets). */
function parseInPieces(text: string, cuts: number[] = []): unknown {
  const builder = new ValueBuilder();
  const tokenizer = new JsonTokenizer(new JsonGrammar(builder));
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    tokenizer.write(text.slice(from, cut));
    from = cut;
  }
  tokenizer.end();
  expect(builder.ended).toBe(true);
  return builder.value;
}

function syntaxErrorOf(text: string, cuts: number[] = []): JsonSyntaxError {
  try {
    parseInPieces(text, cuts);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error;
    throw error;
  }
  throw new Error('expected a JsonSyntaxError');
}

const cutsOf = (text: string) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: text.length }), { maxLength: 8 })
    .map((c) => c.sort((a, b) => a - b));

describe('JsonTokenizer + JsonGrammar', () => {
  it('parses any JSON value like JSON.parse, however the text is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 5 }).chain((v) => {
          const text = JSON.stringify(v, null, Math.random() < 0.5 ? 2 : undefined);
          return fc.tuple(fc.constant(text), cutsOf(text));
        }),
        ([text, cuts]) => {
          expect(parseInPieces(text, cuts)).toEqual(JSON.parse(text));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('decodes every escape, also when a chunk ends inside it', () => {
    const text = '{"k":"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"}';
    for (let cut = 0; cut <= text.length; cut++) {
      expect(parseInPieces(text, [cut])).toEqual(JSON.parse(text));
    }
  });

  it('rejects exactly what JSON.parse rejects (random near-JSON text)', () => {
    const alphabet = fc.constantFrom(...'{}[]:,"0123456789-+.eE tfnrueals\\\n'.split(''));
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 24 }).map((a) => a.join('')),
        (text) => {
          let expected = true;
          try {
            JSON.parse(text);
          } catch {
            expected = false;
          }
          let actual = true;
          try {
            parseInPieces(text, [Math.floor(text.length / 2)]);
          } catch (error) {
            expect(error).toBeInstanceOf(JsonSyntaxError);
            actual = false;
          }
          expect(actual).toBe(expected);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('reports line and column of the offending token', () => {
    const e = syntaxErrorOf('{\n  "a": 1,\n  "b" 2\n}');
    expect(e.line).toBe(3);
    expect(e.col).toBe(7);
    expect(e.message).toContain("expected ':'");
  });

  it('reports the end of input for a truncated document', () => {
    const e = syntaxErrorOf('{"a": {"b": 1}', [5]);
    expect(e.message).toContain('unexpected end of input');
    expect(e.line).toBe(1);
    expect(e.col).toBe(15);
  });

  it('never quotes string content in a message', () => {
    const e = syntaxErrorOf('{"secret-token-value" "x"}');
    expect(e.message).not.toContain('secret-token-value');
    expect(e.message).toContain('a string');
  });

  it('rejects control characters, bad escapes, trailing data and leading zeros with a position', () => {
    expect(syntaxErrorOf('{"a":"x\ty"}').message).toContain('control character');
    expect(syntaxErrorOf('{"a":"\\x"}').message).toContain('invalid escape');
    expect(syntaxErrorOf('{"a":"\\u12G4"}').message).toContain('\\u escape');
    expect(syntaxErrorOf('{} {}').message).toContain('after the end');
    expect(syntaxErrorOf('[01]').message).toContain('invalid number');
    expect(syntaxErrorOf('[tru]').message).toContain('unexpected');
  });

  it('bounds string length and nesting depth', () => {
    const builder = new ValueBuilder();
    const tokenizer = new JsonTokenizer(new JsonGrammar(builder), 10);
    expect(() => {
      tokenizer.write('["0123456789A"]');
      tokenizer.end();
    }).toThrow(/longer than 10/);
    expect(syntaxErrorOf('['.repeat(100)).message).toContain('nesting deeper');
  });

  it('skips a UTF-8 byte order mark at the very start', () => {
    expect(parseInPieces('\ufeff{"a":1}')).toEqual({ a: 1 });
  });
});
