/**
 * Reading OAuth request parameters from a query string or an `application/x-www-form-urlencoded`
 * body, with the rules of RFC 6749 §3.1: a parameter without a value counts as omitted, and a
 * parameter sent more than once is an `invalid_request`.
 */

/** Longest value accepted for any single parameter (a redirect URI or a state can be long, not unbounded). */
export const MAX_PARAM_LENGTH = 4096;

/** The outcome of {@link readParams}: single values plus the names that broke the rules. */
export interface ParamRead<N extends string> {
  /** The value of each requested name, `undefined` when absent or empty. */
  values: Record<N, string | undefined>;
  /** Names present more than once. */
  duplicated: N[];
  /** Names whose value is longer than {@link MAX_PARAM_LENGTH} or holds control characters. */
  malformed: N[];
}

// Control characters (C0 except none, DEL, C1) never belong in an OAuth parameter value.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to reject them
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Read the named parameters once each. Unknown parameters are ignored (RFC 6749 §3.1), even when
 * repeated.
 */
export function readParams<N extends string>(search: URLSearchParams, names: readonly N[]): ParamRead<N> {
  const values = {} as Record<N, string | undefined>;
  const duplicated: N[] = [];
  const malformed: N[] = [];
  for (const name of names) {
    const all = search.getAll(name).filter((v) => v !== '');
    if (all.length > 1) duplicated.push(name);
    const value = all[0];
    if (value !== undefined && (value.length > MAX_PARAM_LENGTH || CONTROL.test(value))) malformed.push(name);
    values[name] = value;
  }
  return { values, duplicated, malformed };
}

/** Split a space-delimited scope string (RFC 6749 §3.3) into unique scope tokens. */
export function parseScope(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  const parts = scope.split(' ').filter(Boolean);
  return [...new Set(parts)];
}

/** A scope token per RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`. */
export function isScopeToken(value: string): boolean {
  return /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/.test(value);
}
