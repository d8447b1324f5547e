/**
 * Malformed JSON at a known position. The message never quotes the input: a dump holds raw tokens
 * and passwords, so only positions and token kinds are reported.
 */
export class JsonSyntaxError extends Error {
  readonly line: number;
  readonly col: number;
  constructor(message: string, line: number, col: number) {
    super(`${message} (line ${line}, col ${col})`);
    this.name = 'JsonSyntaxError';
    this.line = line;
    this.col = col;
  }
}
