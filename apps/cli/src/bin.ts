#!/usr/bin/env -S node --max-old-space-size=192
// The heap cap keeps peak RSS of a 1M-entry migration under 300 MB: what a run keeps alive is a few
// batches, the rest is garbage V8 would otherwise let grow to ~300 MB before collecting it.
import { processIO } from './cli/io.js';
import { main } from './cli/program.js';

const code = await main(process.argv, processIO());
process.exitCode = code;
// Everything is closed by now; if a stray handle kept the loop alive, do not hang the operator's shell.
setTimeout(() => process.exit(code), 2000).unref();
