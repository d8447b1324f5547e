/** RFC 6749 section 5.2 shaped error body. */
export interface OAuthErrorBody {
  error: string;
  error_description?: string;
}

/**
 * Make a value safe inside an RFC 9110 quoted-string: drop CR, LF and every other character a
 * header cannot carry (non-ASCII included), then escape backslash and double quote.
 */
export function quoteHeaderValue(value: string): string {
  const printable = value.replace(/[^\x20-\x7E]/g, '');
  return `"${printable.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}
