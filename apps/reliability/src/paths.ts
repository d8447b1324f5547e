/** Where the binaries under test live: resolved through the workspace packages, built beforehand. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

function builtMain(pkg: string): string {
  const main = join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'main.js');
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: build it first (pnpm --filter ${pkg}... build)`);
  }
  return main;
}

/** `apps/server/dist/main.js`: the server binary. */
export function serverMain(): string {
  return builtMain('@oauth-cache/server');
}

/** `apps/onec-emulator/dist/main.js`: the 1C emulator binary. */
export function emulatorMain(): string {
  return builtMain('@oauth-cache/onec-emulator');
}
