#!/usr/bin/env node
// One entry point for a fresh machine that has only Node.js >= 20 and npm:
//   node scripts/bootstrap.mjs start   -> install, build, start the emulator + server on SQLite
//   node scripts/bootstrap.mjs test    -> install, build, run every test
// It runs the pinned pnpm through npx (no global install needed) and, where Node's headers are
// installed locally (/usr/include/node), points native builds at them so node-gyp needs no download.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const task = process.argv[2];
if (!['start', 'test'].includes(task ?? '')) {
  console.error('usage: node scripts/bootstrap.mjs <start|test>');
  process.exit(2);
}
const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`oauth-cache needs Node.js >= 20 (found ${process.versions.node})`);
  process.exit(1);
}
const pnpmVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const env = { ...process.env };
if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';

function run(args) {
  const result = spawnSync('npx', ['--yes', `pnpm@${pnpmVersion}`, ...args], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run(['install', '--frozen-lockfile']);
run(['run', task === 'test' ? 'test' : 'start']);
