/** One line of an `export` file: a store record exactly as stored (sealed fields stay sealed). */
export interface RecordLine {
  key: string;
  value: unknown;
  /** Absolute expiry, epoch ms. */
  expiresAt: number;
}

export type RecordCheck = { ok: true; record: RecordLine } | { ok: false; reason: string };

/**
 * Parse and check one JSONL line. Messages never quote the line: in the `basic` security level a
 * record holds user data in the clear.
 */
export function parseRecordLine(text: string): RecordCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // V8 messages quote the input around the error: keep only the position.
    const at = /position (\d+)/.exec(String((error as Error).message));
    return { ok: false, reason: at ? `not valid JSON (col ${Number(at[1]) + 1})` : 'not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'expected an object {key, value, expiresAt}' };
  }
  const { key, value, expiresAt } = parsed as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof key !== 'string' || key.length === 0) problems.push('key: expected a non-empty string');
  if (value === undefined || value === null) problems.push('missing field value');
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt <= 0) {
    problems.push('expiresAt: expected epoch milliseconds (a positive integer)');
  }
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  return { ok: true, record: { key: key as string, value, expiresAt: expiresAt as number } };
}
