#!/usr/bin/env node
// One entry point for a fresh machine that has only Node.js >= 20 and npm:
//   node scripts/bootstrap.mjs start   -> install, build, start the emulator + server on SQLite
//   node scripts/bootstrap.mjs test    -> install, build, run every test
// It runs the pinned pnpm through npx (no global install needed) and, where Node's headers are
// installed locally (/usr/include/node), points native builds at them so node-gyp needs no download.
// Before installing it checks the system tools the command needs (see systemTools) and, as root on
// Debian, installs the missing ones with apt-get; otherwise it names them in one line and stops.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
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

/** True when `command` runs: a path as is (the tests call some tools by path), a bare name on PATH. */
function found(command) {
  const candidates = command.includes('/')
    ? [command]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, command));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * True while a locked dependency that pnpm-workspace.yaml allows to build (sqlite3, ...) has no
 * compiled addon yet: only then does the install need a compiler, so the check costs nothing and
 * asks for nothing on a machine that has installed once.
 */
function nativeBuildPending() {
  const workspace = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const lock = readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8');
  const allowed = (workspace.split(/^allowBuilds:\s*$/m)[1] ?? '').matchAll(/^\s+'?([\w@/.-]+)'?:\s*true/gm);
  const locked = [...allowed]
    .map(([, name]) => name)
    .filter((name) => lock.includes(`\n  ${name}@`) || lock.includes(`\n  '${name}@`));
  const store = join(root, 'node_modules', '.pnpm');
  const installed = existsSync(store) ? readdirSync(store) : [];
  return locked.some((name) => {
    const folders = installed.filter((entry) => entry.startsWith(`${name.replace('/', '+')}@`));
    const builds = folders.map((entry) => join(store, entry, 'node_modules', name, 'build', 'Release'));
    const built = (dir) => existsSync(dir) && readdirSync(dir).some((file) => file.endsWith('.node'));
    return builds.length === 0 || !builds.every(built);
  });
}

/** Every system tool this command needs, as command -> Debian package. */
function systemTools() {
  const tools = {};
  if (nativeBuildPending()) Object.assign(tools, { python3: 'python3', make: 'make', 'g++': 'g++' });
  if (task === 'test') {
    Object.assign(tools, {
      '/usr/bin/redis-server': 'redis-server', // the tests start their own (turbo passes no REDIS_SERVER_BIN)
      '/usr/bin/chromium': 'chromium', // the browser login test launches it through playwright-core
      '/usr/bin/sqlite3': 'sqlite3', // the SQLite tests hold locks and read files with the CLI
      python3: 'python3', // a fixture is written in Python (stdlib only)
      openssl: 'openssl', // the TLS tests (Redis over TLS, the CIMD document host) make their certificates
    });
    // As root, the SQLite permission tests drop privileges with setpriv and mount with unshare.
    if (process.getuid?.() === 0) Object.assign(tools, { setpriv: 'util-linux', unshare: 'util-linux' });
  }
  return tools;
}

/** The Debian packages of the tools that are not there. */
function missingPackages() {
  const packages = Object.entries(systemTools())
    .filter(([command]) => !found(command))
    .map(([, pkg]) => pkg);
  return [...new Set(packages)];
}

/** Install what is missing as root with apt-get, or stop with one line naming it. */
function ensureSystemTools() {
  let missing = missingPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() === 0 && found('apt-get')) {
    const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [
      ['update', '-qq'],
      ['install', '-y', '-qq', ...missing],
    ]) {
      const result = spawnSync('apt-get', args, { env: aptEnv, encoding: 'utf8', maxBuffer: 64 << 20 });
      if (result.status !== 0) process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    }
    missing = missingPackages();
    if (missing.length === 0) return;
  }
  const list = missing.join(' ');
  console.error(`missing: ${list}; install them with: sudo apt-get install -y ${list}`);
  process.exit(1);
}

function run(args) {
  const result = spawnSync('npx', ['--yes', `pnpm@${pnpmVersion}`, ...args], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

ensureSystemTools();
run(['install', '--frozen-lockfile']);
run(['run', task === 'test' ? 'test' : 'start']);
