import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { maskUrl } from '@oauth-cache/keyv';
import { UsageError } from '../cli/errors.js';
import { checkStoreUrl } from '../store/open-cache.js';

/** Where `migrate --from` reads. */
export type MigrationSource =
  | { kind: 'legacy'; path: string; label: string }
  | { kind: 'jsonl'; path: string; label: string }
  | { kind: 'store'; url: string; label: string };

const STORE_SCHEMES = /^(sqlite|redis|rediss|memory):\/\//i;

/**
 * Parse `--from`: `legacy-json:<file>`, `jsonl:<file>` or a store URL. `memory://` is refused: it
 * lives inside one process, so a new process would only see an empty store.
 */
export function parseSource(text: string): MigrationSource {
  const value = text.trim();
  if (value.startsWith('legacy-json:')) {
    return {
      kind: 'legacy',
      path: nonEmptyPath(value.slice('legacy-json:'.length), 'legacy-json'),
      label: value,
    };
  }
  if (value.startsWith('jsonl:')) {
    return { kind: 'jsonl', path: nonEmptyPath(value.slice('jsonl:'.length), 'jsonl'), label: value };
  }
  if (STORE_SCHEMES.test(value)) {
    if (/^memory:/i.test(value)) {
      throw new UsageError(
        '--from: memory:// cannot be a source: it lives inside one process, a new process sees it empty',
      );
    }
    checkStoreUrl(value, '--from');
    return { kind: 'store', url: value, label: maskUrl(value) };
  }
  throw new UsageError(
    `--from: unknown source "${maskUrl(value).slice(0, 60)}"; expected legacy-json:<file>, jsonl:<file>, sqlite://<path> or redis://host:port`,
  );
}

function nonEmptyPath(path: string, scheme: string): string {
  if (path === '') throw new UsageError(`--from: ${scheme}: needs a file path, e.g. ${scheme}:/path/to/file`);
  return path;
}

/** Check that a source file can be read now, so a typo exits 2 before anything is opened. Resolves its size. */
export async function checkReadableFile(path: string, what: string): Promise<number> {
  try {
    await access(path, constants.R_OK);
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`${what}: ${path} is not a regular file`);
    return info.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(`${what}: cannot read ${path} (${code})`);
  }
}
