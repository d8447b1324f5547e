#!/usr/bin/env node
// Install a library the way a user does and run its README example there:
//   node scripts/pack-check.mjs packages/<name>
// Packs the package (and the workspace packages it depends on) with `pnpm pack`, installs the
// tarballs with npm into an empty folder outside the workspace, extracts the first ```js block of
// the package README into example.mjs, and runs it. Exit code and output are the example's.
// An example that starts a server and keeps running: add `--probe <url>`; the example is
// started, the URL is fetched until it answers (30 s at most), its status and body are printed,
// then the example is stopped and the exit code says whether the probe answered.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const pkgDir = resolve(root, process.argv[2] ?? '');
const work = mkdtempSync(join(tmpdir(), 'oauth-cache-pack-'));
const packs = join(work, 'tarballs');

const byName = new Map();
for (const group of ['packages', 'apps']) {
  for (const dir of readdirSync(join(root, group), { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    try {
      const manifest = JSON.parse(readFileSync(join(root, group, dir.name, 'package.json'), 'utf8'));
      byName.set(manifest.name, join(root, group, dir.name));
    } catch {}
  }
}

function workspaceClosure(dir, seen = new Set()) {
  if (seen.has(dir)) return seen;
  seen.add(dir);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
    if (String(range).startsWith('workspace:') && byName.has(name)) workspaceClosure(byName.get(name), seen);
  }
  return seen;
}

const pnpm = process.env.npm_execpath?.includes('pnpm') ? process.env.npm_execpath : 'pnpm';
for (const dir of workspaceClosure(pkgDir)) {
  execFileSync(
    pnpm.endsWith('.cjs') || pnpm.endsWith('.js') ? process.execPath : pnpm,
    [...(pnpm.endsWith('.cjs') || pnpm.endsWith('.js') ? [pnpm] : []), 'pack', '--pack-destination', packs],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}
const tarballs = readdirSync(packs).map((f) => join(packs, f));
writeFileSync(
  join(work, 'package.json'),
  JSON.stringify({ name: 'pack-check', private: true, type: 'module' }),
);
const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], {
  cwd: work,
  stdio: 'inherit',
});
if (install.status !== 0) process.exit(install.status ?? 1);

const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
const example = readme.match(/```js\n([\s\S]*?)```/)?.[1];
if (!example) {
  console.error(`no \`\`\`js example in ${join(pkgDir, 'README.md')}`);
  process.exit(1);
}
writeFileSync(join(work, 'example.mjs'), example);
const probeAt = process.argv.indexOf('--probe');
const probe = probeAt === -1 ? undefined : process.argv[probeAt + 1];
if (!probe) {
  const run = spawnSync(process.execPath, ['example.mjs'], { cwd: work, stdio: 'inherit', env: process.env });
  process.exit(run.status ?? 1);
}
const server = spawn(process.execPath, ['example.mjs'], {
  cwd: work,
  stdio: ['ignore', 'ignore', 'inherit'],
});
let exited = false;
server.once('exit', () => {
  exited = true;
});
const deadline = Date.now() + 30_000;
let answer;
while (!answer && !exited && Date.now() < deadline) {
  try {
    const response = await fetch(probe);
    answer = `probe ${response.status} ${await response.text()}`;
  } catch {
    await new Promise((r) => setTimeout(r, 200));
  }
}
server.kill();
console.log(answer ?? `probe: no answer from ${probe}${exited ? ' (the example exited)' : ''}`);
process.exit(answer ? 0 : 1);
