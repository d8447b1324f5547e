/**
 * Field checks shared by dynamic registration (`clients.ts`) and Client ID Metadata Documents
 * (`client-metadata-document.ts`); each caller passes the error its endpoint answers with.
 */

/** `value` as an array of at most 10 strings of at most 100 characters, or `undefined` if absent. */
export function stringArray(
  value: unknown,
  field: string,
  fail: (description: string) => Error,
): string[] | undefined {
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length > 10 ||
    !value.every((v) => typeof v === 'string' && v.length <= 100)
  ) {
    throw fail(`${field} must be an array of at most 10 short strings`);
  }
  return value as string[];
}
