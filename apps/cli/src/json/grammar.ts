import { JsonSyntaxError } from './syntax-error.js';
import { describeToken, type JsonPrimitive, Tok, type TokenKind, type TokenSink } from './token.js';

/** Structural events of a JSON document, each with the position of the token that caused it. */
export interface JsonHandler {
  startObject(line: number, col: number): void;
  endObject(line: number, col: number): void;
  startArray(line: number, col: number): void;
  endArray(line: number, col: number): void;
  /** An object member name. */
  key(name: string, line: number, col: number): void;
  /** A string, number, boolean or null value. */
  primitive(value: JsonPrimitive, line: number, col: number): void;
  /** The document is complete and nothing but whitespace follows. */
  end(): void;
}

/** Deeper nesting is refused: the legacy dump needs 3 levels, and it bounds the parser's stack. */
export const MAX_DEPTH = 64;

const State = {
  Value: 0,
  ObjectFirst: 1,
  ObjectKey: 2,
  Colon: 3,
  ObjectNext: 4,
  ArrayFirst: 5,
  ArrayNext: 6,
  Done: 7,
} as const;
type GrammarState = (typeof State)[keyof typeof State];

const EXPECTED: Record<GrammarState, string> = {
  0: 'a value',
  1: "a member name or '}'",
  2: 'a member name',
  3: "':'",
  4: "',' or '}'",
  5: "a value or ']'",
  6: "',' or ']'",
  7: 'the end of input',
};

/**
 * Checks the token stream against the JSON grammar and turns it into structural events. Every
 * syntax error is a {@link JsonSyntaxError} naming what was expected and where.
 */
export class JsonGrammar implements TokenSink {
  private state: GrammarState = State.Value;
  /** true = object, false = array, innermost last. */
  private readonly stack: boolean[] = [];

  constructor(private readonly handler: JsonHandler) {}

  token(kind: TokenKind, value: JsonPrimitive, line: number, col: number): void {
    switch (this.state) {
      case State.Value:
      case State.ArrayFirst:
        if (kind === Tok.EndArray && this.state === State.ArrayFirst) {
          this.close(false, line, col);
          return;
        }
        this.value(kind, value, line, col);
        return;
      case State.ObjectFirst:
        if (kind === Tok.EndObject) {
          this.close(true, line, col);
          return;
        }
        this.memberName(kind, value, line, col);
        return;
      case State.ObjectKey:
        this.memberName(kind, value, line, col);
        return;
      case State.Colon:
        if (kind !== Tok.Colon) this.unexpected(kind, line, col);
        this.state = State.Value;
        return;
      case State.ObjectNext:
        if (kind === Tok.Comma) {
          this.state = State.ObjectKey;
          return;
        }
        if (kind === Tok.EndObject) {
          this.close(true, line, col);
          return;
        }
        this.unexpected(kind, line, col);
        return;
      case State.ArrayNext:
        if (kind === Tok.Comma) {
          this.state = State.Value;
          return;
        }
        if (kind === Tok.EndArray) {
          this.close(false, line, col);
          return;
        }
        this.unexpected(kind, line, col);
        return;
      default:
        throw new JsonSyntaxError(
          `unexpected ${describeToken(kind)} after the end of the document`,
          line,
          col,
        );
    }
  }

  eof(line: number, col: number): void {
    if (this.state !== State.Done) {
      throw new JsonSyntaxError(`unexpected end of input, expected ${EXPECTED[this.state]}`, line, col);
    }
    this.handler.end();
  }

  private value(kind: TokenKind, value: JsonPrimitive, line: number, col: number): void {
    switch (kind) {
      case Tok.BeginObject:
        this.push(true, line, col);
        this.handler.startObject(line, col);
        this.state = State.ObjectFirst;
        return;
      case Tok.BeginArray:
        this.push(false, line, col);
        this.handler.startArray(line, col);
        this.state = State.ArrayFirst;
        return;
      case Tok.String:
      case Tok.Number:
      case Tok.Literal:
        this.handler.primitive(value, line, col);
        this.afterValue();
        return;
      default:
        this.unexpected(kind, line, col);
    }
  }

  private memberName(kind: TokenKind, value: JsonPrimitive, line: number, col: number): void {
    if (kind !== Tok.String) this.unexpected(kind, line, col);
    this.handler.key(value as string, line, col);
    this.state = State.Colon;
  }

  private push(isObject: boolean, line: number, col: number): void {
    if (this.stack.length >= MAX_DEPTH) {
      throw new JsonSyntaxError(`nesting deeper than ${MAX_DEPTH} levels`, line, col);
    }
    this.stack.push(isObject);
  }

  private close(isObject: boolean, line: number, col: number): void {
    this.stack.pop();
    if (isObject) this.handler.endObject(line, col);
    else this.handler.endArray(line, col);
    this.afterValue();
  }

  private afterValue(): void {
    const top = this.stack[this.stack.length - 1];
    this.state = top === undefined ? State.Done : top ? State.ObjectNext : State.ArrayNext;
  }

  private unexpected(kind: TokenKind, line: number, col: number): never {
    throw new JsonSyntaxError(`expected ${EXPECTED[this.state]} but found ${describeToken(kind)}`, line, col);
  }
}
