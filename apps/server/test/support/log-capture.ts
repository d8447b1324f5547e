/** A real pino logger (the server's own `createLogger`) writing into memory, for log assertions. */
import { Writable } from 'node:stream';
import { createLogger } from '@oauth-cache/koa';
import type { Logger } from 'pino';

export interface LogCapture {
  logger: Logger;
  /** Every line written so far, parsed. */
  lines: Array<Record<string, unknown>>;
  /** Everything written, as text (to check that a secret never appears). */
  text(): string;
}

export function logCapture(level = 'info'): LogCapture {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const text = chunk.toString('utf8');
      raw.push(text);
      for (const line of text.split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ level, destination: stream }), lines, text: () => raw.join('') };
}
