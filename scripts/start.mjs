#!/usr/bin/env node
// `pnpm start`: run the server. With MCP_ONEC_URL set it serves that 1C base; without it, it starts
// the development demo (the 1C emulator — NOT 1C — plus the server on its default SQLite store).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const serverDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'apps', 'server');
const script = process.env.MCP_ONEC_URL ? 'dist/main.js' : 'scripts/dev-with-emulator.mjs';
const child = spawn(process.execPath, [script], { cwd: serverDir, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
