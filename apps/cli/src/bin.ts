#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=4194304:glibc.malloc.arena_max=2 node --max-old-space-size=128 --max-semi-space-size=24
// These settings hold peak RSS of a 1M-entry migration under 300 MB (measured: ~273 MB into SQLite).
// - Heap: a run keeps only a few batches alive (~30 MB after a full collection), so the old space
//   is capped low; the young space is raised instead, because every batch in flight survives a
//   scavenge or two while the store answers, and with the default it was promoted and collected
//   again: 16 → 24 MiB made a 1M run ~15 % faster for ~20 MB.
// - malloc (glibc; other C libraries ignore it): SQLite's merge sorts run on a libuv thread, and
//   glibc's growing mmap threshold kept their freed multi-megabyte buffers (~100 MB of RSS at 1M).
//   Two arenas at most: each libuv thread running SQLite otherwise gets an arena of its own that
//   keeps what it freed (1M into SQLite: 290-298 MB of peak RSS with them, 273 MB without).
import { processIO } from './cli/io.js';
import { main } from './cli/program.js';

const code = await main(process.argv, processIO());
process.exitCode = code;
// Everything is closed by now; if a stray handle kept the loop alive, do not hang the operator's shell.
setTimeout(() => process.exit(code), 2000).unref();
