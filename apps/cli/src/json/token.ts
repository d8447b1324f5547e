/** Kinds of JSON tokens (numeric so the hot loop compares small integers). */
export const Tok = {
  BeginObject: 1,
  EndObject: 2,
  BeginArray: 3,
  EndArray: 4,
  Colon: 5,
  Comma: 6,
  String: 7,
  Number: 8,
  Literal: 9,
} as const;
export type TokenKind = (typeof Tok)[keyof typeof Tok];

/** A primitive JSON value as produced by the tokenizer. */
export type JsonPrimitive = string | number | boolean | null;

/** Receives tokens in order. `value` is set for String, Number and Literal tokens. */
export interface TokenSink {
  token(kind: TokenKind, value: JsonPrimitive, line: number, col: number): void;
  /** End of input at this position. */
  eof(line: number, col: number): void;
}

const NAMES: Record<TokenKind, string> = {
  1: "'{'",
  2: "'}'",
  3: "'['",
  4: "']'",
  5: "':'",
  6: "','",
  7: 'a string',
  8: 'a number',
  9: 'a literal',
};

/** Human name of a token kind for error messages (never the token's content). */
export function describeToken(kind: TokenKind): string {
  return NAMES[kind];
}
