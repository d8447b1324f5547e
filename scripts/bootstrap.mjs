#!/usr/bin/env node
// One entry point for a fresh machine that has only Node.js >= 20 and npm:
//   node scripts/bootstrap.mjs start   -> install, build, start the emulator + server on SQLite
//   node scripts/bootstrap.mjs test    -> install, build, run every test, then every test again on Node 22
//   node scripts/bootstrap.mjs test-node22 -> install, build, run every test on Node 22 only
// It runs the pinned pnpm through npx (no global install needed) and, where Node's headers are
// installed locally (/usr/include/node), points native builds at them so node-gyp needs no download.
// Node 22 comes from the npm registry's `node` package (binary and headers), never from nodejs.org.
// Before installing it checks the system tools the command needs (see systemTools) and, as root on
// Debian, installs the missing ones with apt-get; otherwise it names them in one line and stops.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const task = process.argv[2];
if (!['start', 'test', 'test-node22'].includes(task ?? '')) {
  console.error('usage: node scripts/bootstrap.mjs <start|test|test-node22>');
  process.exit(2);
}
const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`oauth-cache needs Node.js >= 20 (found ${process.versions.node})`);
  process.exit(1);
}
/** The second Node.js line the whole test suite runs on, after the Node.js that runs this script. */
const secondNode = '22.23.3';
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
  if (task.startsWith('test')) {
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

/**
 * The pinned pnpm's executable as npx finds or installs it. The second pass runs it directly:
 * `npx pnpm` would put npm's global bin folder (with the system `node`) ahead of Node 22 on PATH.
 */
function pnpmExecutable() {
  const args = ['--yes', '-p', `pnpm@${pnpmVersion}`, '-c', 'command -v pnpm'];
  const result = spawnSync('npx', args, { cwd: root, env, encoding: 'utf8' });
  const file = result.stdout?.trim().split('\n').at(-1);
  if (result.status !== 0 || !file) {
    console.error(`could not find pnpm ${pnpmVersion} through npx: ${result.stderr ?? ''}`);
    process.exit(1);
  }
  return file;
}

/**
 * Installs Node.js `version` once under node_modules/.cache/node/<version> with npm from the npm
 * registry's `node` package: its preinstall adds node-<platform>-<arch>, the binary plus its headers.
 * Returns the folder holding that `node` and the folder to hand node-gyp as nodedir (or undefined).
 */
function installNode(version) {
  const prefix = join(root, 'node_modules', '.cache', 'node', version);
  const bin = join(prefix, 'node_modules', 'node', 'bin');
  const runs = () =>
    spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout?.trim() === `v${version}`;
  if (!runs()) {
    // A package.json of its own keeps this install apart from the workspace and allows (npm >= 11)
    // the one install script it needs.
    const manifest = { private: true, dependencies: { node: version }, allowScripts: { node: true } };
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    spawnSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund'], {
      env: process.env,
      stdio: 'inherit',
    });
    if (!runs()) {
      console.error(`could not install Node.js ${version} from the npm package node@${version}`);
      process.exit(1);
    }
  }
  const arch = join(
    prefix,
    'node_modules',
    'node',
    'node_modules',
    `node-${process.platform}-${process.arch}`,
  );
  return { bin, nodedir: existsSync(join(arch, 'include', 'node', 'node.h')) ? arch : undefined };
}

/**
 * The same install, builds and tests once more with Node.js `version` first on PATH, so pnpm, turbo,
 * vitest and every `node` a test spawns run on it. The installed addons serve both Node lines because
 * sqlite3 is an N-API addon (ABI-stable); an addon bound to one Node ABI fails here loudly.
 */
function testOn(version) {
  const { bin, nodedir } = installNode(version);
  const pnpm = pnpmExecutable();
  const runEnv = { ...env, PATH: [bin, dirname(pnpm), env.PATH ?? ''].join(delimiter) };
  if (nodedir) runEnv.npm_config_nodedir = nodedir;
  // What a package script gets as `node` (pnpm and turbo add folders to PATH on the way).
  const scriptNode = spawnSync(pnpm, ['exec', 'node', '--version'], {
    cwd: root,
    env: runEnv,
    encoding: 'utf8',
  });
  if (scriptNode.stdout?.trim() !== `v${version}`) {
    console.error(
      `the Node ${version} pass would run its scripts on ${scriptNode.stdout?.trim() || 'no node'}`,
    );
    process.exit(1);
  }
  console.log(`\n== test suite on Node ${version} ==`);
  const result = spawnSync(pnpm, ['run', 'test'], { cwd: root, env: runEnv, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

ensureSystemTools();
run(['install', '--frozen-lockfile']);
if (task === 'start') run(['run', 'start']);
if (task === 'test') {
  console.log(`\n== test suite on Node ${process.versions.node} ==`);
  run(['run', 'test']);
}
const secondMajor = Number(secondNode.split('.')[0]);
if (task === 'test-node22' || (task === 'test' && major !== secondMajor)) testOn(secondNode);
else if (task === 'test')
  console.log(`== Node ${process.versions.node} is Node ${secondMajor} already: no second pass ==`);
