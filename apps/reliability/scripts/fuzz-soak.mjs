#!/usr/bin/env node
// Scenario 5's fast-check properties with SOAK_FUZZ_SCALE (10) times the CI run counts (fresh
// random seeds each run). Runs the suite's own test file through vitest and prints its figures.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const scale = process.env.SOAK_FUZZ_SCALE ?? '10';
const run = spawnSync('npx', ['vitest', 'run', 'test/fuzz-endpoints.test.ts'], {
  cwd: root,
  env: { ...process.env, RELIABILITY_FUZZ_SCALE: scale },
  stdio: 'inherit',
});
const figures = JSON.parse(readFileSync(join(root, 'results', 'fuzz.json'), 'utf8'));
const total = Object.values(figures.inputsTried).reduce((a, b) => a + b, 0);
console.log(
  `fuzz soak: scale ${scale}, ${total} inputs, per property ${JSON.stringify(figures.inputsTried)}`,
);
process.exit(run.status ?? 1);
