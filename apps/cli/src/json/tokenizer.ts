import { JsonSyntaxError } from './syntax-error.js';
import { Tok, type TokenSink } from './token.js';

/** Strings longer than this are refused: a legacy entry never needs more, and it bounds memory. */
export const DEFAULT_MAX_STRING_LENGTH = 1 << 20;

/** A backslash or a control character: the string needs the character-by-character decoder. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: raw control characters are what JSON forbids in strings
const NEEDS_SLOW_PATH = /[\\\u0000-\u001f]/;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERALS = ['true', 'false', 'null'] as const;
const LITERAL_VALUES: Record<(typeof LITERALS)[number], boolean | null> = {
  true: true,
  false: false,
  null: null,
};

const ESCAPES: Record<number, string> = {
  34: '"',
  92: '\\',
  47: '/',
  98: '\b',
  102: '\f',
  110: '\n',
  114: '\r',
  116: '\t',
};

/**
 * Incremental JSON tokenizer: feed it text chunks of any size (split anywhere, even inside a
 * string or an escape) and it hands complete tokens with their line and column to a sink. Only an
 * unfinished token is carried over between chunks, so memory stays bounded by the longest string.
 */
export class JsonTokenizer {
  private pending = '';
  private line = 1;
  private col = 1;
  private stringEnd = 0;
  private started = false;

  constructor(
    private readonly sink: TokenSink,
    private readonly maxStringLength = DEFAULT_MAX_STRING_LENGTH,
  ) {}

  /** Tokenize one more chunk. Throws {@link JsonSyntaxError} on malformed input. */
  write(chunk: string): void {
    let text = this.pending + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // tolerate a UTF-8 BOM
    }
    this.scan(text, false);
  }

  /** Signal the end of input: an unfinished token is an error, then the sink gets `eof`. */
  end(): void {
    this.scan(this.pending, true);
    this.sink.eof(this.line, this.col);
  }

  private scan(buf: string, final: boolean): void {
    const sink = this.sink;
    const n = buf.length;
    let i = 0;
    let line = this.line;
    let col = this.col;
    while (i < n) {
      const c = buf.charCodeAt(i);
      switch (c) {
        case 0x20:
        case 0x09:
        case 0x0d:
          i++;
          col++;
          continue;
        case 0x0a:
          i++;
          line++;
          col = 1;
          continue;
        case 0x7b:
          sink.token(Tok.BeginObject, null, line, col);
          break;
        case 0x7d:
          sink.token(Tok.EndObject, null, line, col);
          break;
        case 0x5b:
          sink.token(Tok.BeginArray, null, line, col);
          break;
        case 0x5d:
          sink.token(Tok.EndArray, null, line, col);
          break;
        case 0x3a:
          sink.token(Tok.Colon, null, line, col);
          break;
        case 0x2c:
          sink.token(Tok.Comma, null, line, col);
          break;
        case 0x22: {
          const value = this.readString(buf, i, line, col);
          if (value === null) {
            if (final) throw new JsonSyntaxError('unterminated string', line, col);
            this.suspend(buf, i, line, col);
            return;
          }
          sink.token(Tok.String, value, line, col);
          // JSON strings hold no raw newline, so the column simply advances by the token length.
          col += this.stringEnd - i;
          i = this.stringEnd;
          continue;
        }
        default: {
          if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
            // The run of characters that may belong to a number: if it reaches the end of the
            // chunk, the number may go on in the next one.
            let end = i + 1;
            while (end < n && isNumberChar(buf.charCodeAt(end))) end++;
            if (end === n && !final) {
              this.suspend(buf, i, line, col);
              return;
            }
            NUMBER.lastIndex = i;
            const m = NUMBER.exec(buf);
            if (!m || i + m[0].length !== end || (end < n && isNumberContinuation(buf.charCodeAt(end)))) {
              throw new JsonSyntaxError('invalid number', line, col);
            }
            sink.token(Tok.Number, Number(m[0]), line, col);
            col += end - i;
            i = end;
            continue;
          }
          const literal = LITERALS.find((l) => buf.startsWith(l, i));
          if (literal !== undefined) {
            const end = i + literal.length;
            if (end === n && !final) {
              this.suspend(buf, i, line, col);
              return;
            }
            if (end < n && isNumberContinuation(buf.charCodeAt(end))) {
              throw new JsonSyntaxError('invalid literal', line, col);
            }
            sink.token(Tok.Literal, LITERAL_VALUES[literal], line, col);
            col += literal.length;
            i = end;
            continue;
          }
          if (!final && LITERALS.some((l) => n - i < l.length && l.startsWith(buf.slice(i)))) {
            this.suspend(buf, i, line, col);
            return;
          }
          throw new JsonSyntaxError(`unexpected ${describeChar(c)}`, line, col);
        }
      }
      i++;
      col++;
    }
    this.pending = '';
    this.line = line;
    this.col = col;
  }

  /** Keep the unfinished token for the next chunk, remembering where it starts. */
  private suspend(buf: string, from: number, line: number, col: number): void {
    this.pending = buf.slice(from);
    this.line = line;
    this.col = col;
  }

  /**
   * Decode the string starting at `start` (the opening quote). Returns null when the chunk ends
   * before the closing quote; sets `stringEnd` to the index after the closing quote otherwise.
   */
  private readString(buf: string, start: number, line: number, col: number): string | null {
    const n = buf.length;
    const limit = start + 1 + this.maxStringLength;
    // Fast path (almost every string of a dump): no escape and no control character before the
    // closing quote, found by native searches instead of a loop over characters.
    const close = buf.indexOf('"', start + 1);
    if (close !== -1 && close <= limit) {
      const text = buf.slice(start + 1, close);
      if (!NEEDS_SLOW_PATH.test(text)) {
        this.stringEnd = close + 1;
        return text;
      }
    }
    let decoded = '';
    let segment = start + 1;
    let j = segment;
    while (true) {
      if (j > limit) {
        throw new JsonSyntaxError(`string longer than ${this.maxStringLength} characters`, line, col);
      }
      if (j >= n) return null;
      const c = buf.charCodeAt(j);
      if (c === 0x22) {
        this.stringEnd = j + 1;
        return decoded + buf.slice(segment, j);
      }
      if (c === 0x5c) {
        if (j + 1 >= n) return null;
        const e = buf.charCodeAt(j + 1);
        decoded += buf.slice(segment, j);
        if (e === 0x75) {
          if (j + 6 > n) return null;
          const hex = buf.slice(j + 2, j + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            throw new JsonSyntaxError('invalid \\u escape in string', line, col + (j - start));
          }
          decoded += String.fromCharCode(Number.parseInt(hex, 16));
          j += 6;
        } else {
          const replacement = ESCAPES[e];
          if (replacement === undefined) {
            throw new JsonSyntaxError('invalid escape in string', line, col + (j - start));
          }
          decoded += replacement;
          j += 2;
        }
        segment = j;
        continue;
      }
      if (c < 0x20) throw new JsonSyntaxError('control character in string', line, col + (j - start));
      j++;
    }
  }
}

/** Digits, sign, decimal point and exponent: characters a number token is made of. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

/** A character that may not directly follow a number or literal. */
function isNumberContinuation(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2e ||
    c === 0x2b ||
    c === 0x2d ||
    c === 0x5f
  );
}

function describeChar(c: number): string {
  if (c >= 0x21 && c <= 0x7e) return `character '${String.fromCharCode(c)}'`;
  return `character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}
