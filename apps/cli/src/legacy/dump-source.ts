import { createReadStream } from 'node:fs';
import { JsonGrammar } from '../json/grammar.js';
import { JsonTokenizer } from '../json/tokenizer.js';
import { type DumpItem, LegacyDumpReader } from './dump-reader.js';

/** Read size: big enough to keep syscalls rare, small enough that a chunk's entries stay a few MB. */
const CHUNK_BYTES = 1 << 20;

/** Byte progress of a file being read. */
export interface ReadProgress {
  readonly bytesRead: number;
}

/**
 * Stream the legacy dump at `path`: yields the items of each chunk as soon as it is parsed, so at
 * most one chunk's worth of entries is in memory. Throws `JsonSyntaxError` (with line and column)
 * on malformed JSON, after yielding the entries read before it.
 */
export async function* readLegacyDump(
  path: string,
  progress?: { bytesRead: number },
): AsyncGenerator<DumpItem[]> {
  const reader = new LegacyDumpReader();
  const tokenizer = new JsonTokenizer(new JsonGrammar(reader));
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
  try {
    try {
      for await (const chunk of stream) {
        tokenizer.write(chunk as string);
        if (progress) progress.bytesRead = stream.bytesRead;
        const items = reader.drain();
        if (items.length > 0) yield items;
      }
      tokenizer.end();
    } catch (error) {
      // Hand out what was read before the error (so it is processed like the rest), then fail.
      const before = reader.drain();
      if (before.length > 0) yield before;
      throw error;
    }
    const rest = reader.drain();
    if (rest.length > 0) yield rest;
  } finally {
    stream.destroy();
  }
}
