/**
 * Development convenience: when OAUTH_CACHE_SECRET / OAUTH_CACHE_ENCRYPTION_KEYS are not set outside
 * production, generate them once and keep them in the data folder (file mode 0600), so tokens in
 * the SQLite file survive restarts of a dev server. Production requires them from the environment.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@oauth-cache/core';

/** The generated values, in the same text format as the environment variables. */
export interface DevSecrets {
  /** base64 of 32 random bytes (OAUTH_CACHE_SECRET format). */
  secret: string;
  /** `dev1:<base64 of 32 bytes>` (OAUTH_CACHE_ENCRYPTION_KEYS format). */
  encryptionKeys: string;
}

/** File name inside the data folder. */
export const DEV_SECRETS_FILE = 'dev-secrets.json';

/**
 * Read the dev secrets from `dataDir`, creating the folder and the file (0600) when missing.
 * Resolves whether the file was created now (to log a warning).
 */
export function loadOrCreateDevSecrets(dataDir: string): {
  secrets: DevSecrets;
  created: boolean;
  path: string;
} {
  const path = join(dataDir, DEV_SECRETS_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const generated: DevSecrets = {
    secret: randomBytes(32).toString('base64'),
    encryptionKeys: `dev1:${randomBytes(32).toString('base64')}`,
  };
  try {
    // `wx`: never overwrite a file another process created a moment ago.
    writeFileSync(path, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return { secrets: generated, created: true, path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError([`${path}: not valid JSON; delete it to generate new development secrets`]);
  }
  const p = parsed as Partial<DevSecrets>;
  if (typeof p?.secret !== 'string' || typeof p.encryptionKeys !== 'string') {
    throw new ConfigError([
      `${path}: expected {"secret": ..., "encryptionKeys": ...}; delete it to regenerate`,
    ]);
  }
  return { secrets: { secret: p.secret, encryptionKeys: p.encryptionKeys }, created: false, path };
}
