import { createReadStream } from 'node:fs';
import { parseRecordLine, type RecordLine } from './jsonl-record.js';

/** Longer lines are reported and skipped without being buffered whole. */
export const MAX_LINE_LENGTH = 16 << 20;

export type JsonlItem =
  | { kind: 'record'; record: RecordLine; line: number }
  | { kind: 'error'; line: number; reason: string };

/**
 * Stream a JSONL export: yields the parsed lines of each chunk. Empty lines are ignored; bad lines
 * come out as `error` items with their 1-based line number.
 */
export async function* readJsonl(
  path: string,
  progress?: { bytesRead: number },
): AsyncGenerator<JsonlItem[]> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let line = 0;
  let skippingLongLine = false;
  const parse = (text: string, out: JsonlItem[]): void => {
    line++;
    if (skippingLongLine) {
      skippingLongLine = false;
      out.push({ kind: 'error', line, reason: `line longer than ${MAX_LINE_LENGTH} characters` });
      return;
    }
    const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (trimmed.trim() === '') return;
    const check = parseRecordLine(trimmed);
    out.push(
      check.ok
        ? { kind: 'record', record: check.record, line }
        : { kind: 'error', line, reason: check.reason },
    );
  };
  try {
    for await (const chunk of stream) {
      const out: JsonlItem[] = [];
      const text = rest + (chunk as string);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        parse(text.slice(start, nl), out);
        start = nl + 1;
      }
      rest = text.slice(start);
      if (rest.length > MAX_LINE_LENGTH) {
        skippingLongLine = true;
        rest = '';
      }
      if (progress) progress.bytesRead = stream.bytesRead;
      if (out.length > 0) yield out;
    }
    const out: JsonlItem[] = [];
    if (rest.length > 0 || skippingLongLine) parse(rest, out);
    if (out.length > 0) yield out;
  } finally {
    stream.destroy();
  }
}
