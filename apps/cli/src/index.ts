/**
 * `@oauth-cache/cli`: the `oauth-cache` command. The modules below are exported for tests and for
 * embedding (e.g. running a migration from a deployment script without spawning a process).
 * @packageDocumentation
 */

export { DigestSet } from '@oauth-cache/keyv';
export { ExitCode, FatalError, UsageError } from './cli/errors.js';
export { type CliIO, processIO } from './cli/io.js';
export { buildProgram, main } from './cli/program.js';
export { formatDuration, formatProgress, ProgressBar } from './cli/progress.js';
export { JsonGrammar, type JsonHandler } from './json/grammar.js';
export { JsonSyntaxError } from './json/syntax-error.js';
export { JsonTokenizer } from './json/tokenizer.js';
export { parseRecordLine, type RecordLine } from './jsonl/jsonl-record.js';
export { readJsonl } from './jsonl/jsonl-source.js';
export { type DumpItem, DumpShapeError, LegacyDumpReader } from './legacy/dump-reader.js';
export { readLegacyDump } from './legacy/dump-source.js';
export { checkLegacyEntry, type LegacyEntry } from './legacy/entry.js';
export { parseLegacyExpiry } from './legacy/expiry.js';
export { type EntryPosition, formatPosition } from './legacy/position.js';
export type { RawEntry } from './legacy/raw-entry.js';
export { ZoneResolver } from './legacy/zone.js';
export { familyIdOf as legacyFamilyIdOf } from './migrate/legacy-target.js';
export { parseSource } from './migrate/source.js';
export type { MigrationSummary } from './migrate/summary.js';
