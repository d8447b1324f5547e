// pnpm links a workspace package's bin into its dependents, never into the package itself, so the
// root script `pnpm --filter @oauth-cache/cli exec oauth-cache` would not find it. The build links
// node_modules/.bin/oauth-cache -> dist/bin.js (and makes it executable) for that script.
import { chmod, mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'dist', 'bin.js');
const link = join(root, 'node_modules', '.bin', 'oauth-cache');
await chmod(target, 0o755);
await mkdir(dirname(link), { recursive: true });
await rm(link, { force: true });
await symlink(relative(dirname(link), target), link);
