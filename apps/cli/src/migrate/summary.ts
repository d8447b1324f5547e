import { ExitCode, type ExitCodeValue } from '../cli/errors.js';

/** What a migration counted. In a dry run, "migrated" means "would be migrated". */
export interface MigrationCounts {
  migratedAccess: number;
  migratedRefresh: number;
  /** Records that are neither access nor refresh tokens (sessions, consumed markers, `x:` records). */
  migratedOther: number;
  skippedExpired: number;
  /** Already in the target with a later or equal expiry: left as is. */
  alreadyPresent: number;
  /** Legacy refresh tokens already rotated in the target, or of a revoked family: not brought back. */
  skippedRevoked: number;
  errors: number;
  warnings: number;
}

/** The result of `migrate`, printed as text or (with --json) as exactly one JSON object. */
export interface MigrationSummary extends MigrationCounts {
  ok: boolean;
  dryRun: boolean;
  source: string;
  target: string;
  maxErrors: number;
  seconds: number;
  interrupted: boolean;
  /** Why the run stopped early (malformed input, store failure), or null. */
  fatal: string | null;
}

export function emptyCounts(): MigrationCounts {
  return {
    migratedAccess: 0,
    migratedRefresh: 0,
    migratedOther: 0,
    skippedExpired: 0,
    alreadyPresent: 0,
    skippedRevoked: 0,
    errors: 0,
    warnings: 0,
  };
}

/** Entries or records looked at so far (for the progress bar). */
export function processed(c: MigrationCounts): number {
  return (
    c.migratedAccess +
    c.migratedRefresh +
    c.migratedOther +
    c.skippedExpired +
    c.alreadyPresent +
    c.skippedRevoked +
    c.errors
  );
}

/** 0 when done within --max-errors, 1 on too many errors or a fatal stop, 130 when interrupted. */
export function exitCodeOf(s: MigrationSummary): ExitCodeValue {
  if (s.interrupted) return ExitCode.Interrupted;
  return s.ok ? ExitCode.Ok : ExitCode.Failed;
}

/** Human-readable summary (stdout). */
export function formatSummary(s: MigrationSummary): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const verb = s.dryRun ? 'would migrate' : 'migrated';
  const migrated = s.migratedAccess + s.migratedRefresh + s.migratedOther;
  const lines = [
    `${s.dryRun ? 'dry run: ' : ''}${s.source} -> ${s.target}`,
    `${verb}: ${n(s.migratedAccess)} access tokens, ${n(s.migratedRefresh)} refresh tokens${s.migratedOther ? `, ${n(s.migratedOther)} other records` : ''}`,
    `skipped: ${n(s.skippedExpired)} expired, ${n(s.alreadyPresent)} already present, ${n(s.skippedRevoked)} rotated or revoked in the target`,
    `errors: ${n(s.errors)} (allowed: ${n(s.maxErrors)})${s.warnings ? `, warnings: ${n(s.warnings)}` : ''}`,
    `time: ${s.seconds.toFixed(2)} s`,
  ];
  if (!s.dryRun && s.fatal === null && !s.interrupted && migrated === 0 && s.alreadyPresent > 0) {
    lines.push('nothing to do: every live entry was already present in the target');
  }
  if (s.interrupted)
    lines.push('interrupted: run the same command again to finish (already written entries are kept)');
  if (s.fatal !== null) lines.push(`stopped: ${s.fatal}`);
  else if (s.errors > s.maxErrors)
    lines.push(`failed: ${n(s.errors)} errors, more than --max-errors ${n(s.maxErrors)}`);
  return lines.join('\n');
}
