import { type ExitCodeValue, UsageError } from '../cli/errors.js';
import type { CliIO } from '../cli/io.js';
import { withCache } from './with-cache.js';

/** Options of `revoke`: exactly one of `user` and `family`. */
export interface RevokeOptions {
  store?: string;
  user?: string;
  family?: string;
  json?: boolean;
}

/** `oauth-cache revoke`: every token of a user (needs the server secret) or of a family. */
export function runRevoke(opts: RevokeOptions, io: CliIO): Promise<ExitCodeValue> {
  const { user, family } = opts;
  if ((user === undefined) === (family === undefined)) {
    throw new UsageError('revoke needs exactly one of --user <login> or --family <id>');
  }
  if ((user ?? family)!.trim() === '')
    throw new UsageError(`${user !== undefined ? '--user' : '--family'} must not be empty`);
  return withCache(opts.store, user !== undefined ? 'secret' : 'none', io, async (cache) => {
    const revoked =
      user !== undefined ? await cache.revokeUserTokens(user) : await cache.revokeFamily(family!);
    const what = user !== undefined ? 'user' : 'family';
    io.stdout.write(
      opts.json ? `${JSON.stringify({ [what]: user ?? family, revoked })}\n` : `revoked ${revoked} tokens\n`,
    );
  });
}
