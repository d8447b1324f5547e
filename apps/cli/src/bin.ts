#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576:glibc.malloc.trim_threshold=1048576 node --max-old-space-size=192
// Both settings keep peak RSS of a 1M-entry migration under 300 MB. The heap cap: what a run keeps
// alive is a few batches, the rest is garbage V8 would otherwise let grow to ~300 MB before
// collecting it. The malloc tunables (glibc; other C libraries ignore them): SQLite's merge sorts
// run on a libuv thread whose multi-megabyte buffers glibc otherwise keeps after they are freed
// (its mmap threshold grows with each one), ~70 MB of RSS at 300k tokens.
import { processIO } from './cli/io.js';
import { main } from './cli/program.js';

const code = await main(process.argv, processIO());
process.exitCode = code;
// Everything is closed by now; if a stray handle kept the loop alive, do not hang the operator's shell.
setTimeout(() => process.exit(code), 2000).unref();
