import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { access, constants, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type ExitCodeValue, UsageError } from '../cli/errors.js';
import type { CliIO } from '../cli/io.js';
import { withCache } from './with-cache.js';

/** Lines are written in blocks of about this size (fewer syscalls than one write per record). */
const BLOCK_CHARS = 64 * 1024;

/**
 * `oauth-cache export`: every live record as JSONL `{key, value, expiresAt}`, sealed fields still
 * sealed. Written to a temp file (mode 0600: records may hold sealed credentials) renamed over
 * `--out` at the end, so a failed export never leaves a half file under the final name.
 */
export async function runExport(
  opts: { store?: string; out: string; json?: boolean },
  io: CliIO,
): Promise<ExitCodeValue> {
  try {
    await access(dirname(opts.out), constants.W_OK);
  } catch {
    throw new UsageError(`--out: cannot write into ${dirname(opts.out)}`);
  }
  return withCache(opts.store, 'none', io, async (cache) => {
    const temp = `${opts.out}.tmp-${process.pid}`;
    const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
    const counts = { records: 0, access: 0, refresh: 0, other: 0 };
    try {
      let block = '';
      for await (const record of cache.exportRecords()) {
        counts.records++;
        if (record.key.startsWith('at:')) counts.access++;
        else if (record.key.startsWith('rt:')) counts.refresh++;
        else counts.other++;
        block += `${JSON.stringify({ key: record.key, value: record.value, expiresAt: record.expiresAt })}\n`;
        if (block.length >= BLOCK_CHARS) {
          if (!out.write(block)) await once(out, 'drain');
          block = '';
        }
      }
      out.end(block);
      await once(out, 'finish');
      await rename(temp, opts.out);
    } catch (error) {
      out.destroy();
      await rm(temp, { force: true });
      throw error;
    }
    io.stdout.write(
      opts.json
        ? `${JSON.stringify({ out: opts.out, ...counts })}\n`
        : `exported ${counts.records} records (${counts.access} access, ${counts.refresh} refresh, ${counts.other} other) to ${opts.out}\n`,
    );
  });
}
