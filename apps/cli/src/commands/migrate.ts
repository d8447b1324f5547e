import {
  type BulkLoadInfo,
  type CacheConfig,
  StoreUnavailableError,
  type TokenCache,
} from '@oauth-cache/core';
import { maskUrl } from '@oauth-cache/keyv';
import { type ExitCodeValue, FatalError, UsageError } from '../cli/errors.js';
import type { CliIO } from '../cli/io.js';
import { ProgressBar } from '../cli/progress.js';
import { Reporter } from '../cli/reporter.js';
import { JsonSyntaxError } from '../json/syntax-error.js';
import { ZoneResolver } from '../legacy/zone.js';
import { batchSizing } from '../migrate/batch-sizing.js';
import { type DemandSource, ensureRoom } from '../migrate/capacity.js';
import { jsonlDemand, legacyDemand, storeDemand } from '../migrate/capacity-sources.js';
import { type LegacyBinding, legacyBinding } from '../migrate/legacy-binding.js';
import { migrateLegacyDump } from '../migrate/legacy-migration.js';
import { LegacyTarget } from '../migrate/legacy-target.js';
import { migrateJsonl, migrateStore } from '../migrate/record-migration.js';
import type { RunState } from '../migrate/run-state.js';
import { checkReadableFile, type MigrationSource, parseSource } from '../migrate/source.js';
import { emptyCounts, exitCodeOf, formatSummary, type MigrationSummary } from '../migrate/summary.js';
import { checkStoreUrl, configForCli, openCache, storeUrlFrom } from '../store/open-cache.js';

/** Options of `migrate` (and its alias `import`), as parsed by commander. */
export interface MigrateOptions {
  from: string;
  to?: string;
  dryRun?: boolean;
  json?: boolean;
  /** Unset: {@link batchSizing} picks by the target. */
  batchSize?: number;
  maxErrors: number;
  concurrency: number;
  legacyClientId?: string;
  /** The MCP resource migrated legacy tokens are bound to (default: from MCP_PUBLIC_URL). */
  resource?: string;
  legacyTz: string;
}

function zoneFor(tz: string): ZoneResolver {
  try {
    return new ZoneResolver(tz);
  } catch {
    throw new UsageError(
      `--legacy-tz: unknown time zone "${tz.slice(0, 60)}" (expected an IANA name such as Europe/Moscow or UTC)`,
    );
  }
}

/** Everything that can be checked before touching a store: exit 2 early on a bad invocation. */
async function prepare(opts: MigrateOptions, io: CliIO) {
  const source = parseSource(opts.from);
  const zone = zoneFor(opts.legacyTz);
  const sourceSize = source.kind === 'store' ? undefined : await checkReadableFile(source.path, '--from');
  const targetUrl = storeUrlFrom(opts.to, io.env, '--to');
  checkStoreUrl(targetUrl, '--to');
  if (/^memory:/i.test(targetUrl.trim())) {
    throw new UsageError('--to: memory:// cannot be a target: it lives inside this process and ends with it');
  }
  if (source.kind === 'store' && source.url.trim() === targetUrl.trim()) {
    throw new UsageError('--from and --to name the same store');
  }
  let config: CacheConfig | undefined;
  if (!opts.dryRun) {
    config = configForCli(io.env, 'all');
    if (source.kind === 'legacy' && config.securityLevel === 'basic') {
      throw new UsageError(
        'SECURITY_LEVEL=basic would store the 1C passwords of legacy entries in the clear: use enhanced or maximum',
      );
    }
  } else if (source.kind === 'store') {
    // Reading a store needs its prefix; records are copied sealed, so no keys are required.
    config = configForCli(io.env, 'none');
  }
  const binding = source.kind === 'legacy' ? legacyBinding(opts, io.env) : undefined;
  return { source, zone, sourceSize, targetUrl, config, binding };
}

/** What the run would add, as the capacity check reads it from the source. */
function demandOf(
  source: MigrationSource,
  sourceSize: number | undefined,
  zone: ZoneResolver,
  target: TokenCache,
  sourceCache: TokenCache | null,
): DemandSource {
  switch (source.kind) {
    case 'legacy':
      return legacyDemand(source.path, sourceSize ?? 0, zone, target);
    case 'jsonl':
      return jsonlDemand(source.path, sourceSize ?? 0);
    case 'store':
      return storeDemand(sourceCache!);
  }
}

async function run(
  source: MigrationSource,
  zone: ZoneResolver,
  target: TokenCache | null,
  sourceCache: TokenCache | null,
  opts: MigrateOptions,
  binding: LegacyBinding | undefined,
  state: RunState,
): Promise<void> {
  // The default batch size depends on the target, and inside a bulk load on how the store took it.
  const sizeBatches = (load?: BulkLoadInfo) =>
    Object.assign(state, batchSizing(opts.batchSize, target?.store ?? null, load));
  sizeBatches();
  switch (source.kind) {
    case 'legacy': {
      const legacyTarget = target && new LegacyTarget(target, binding!);
      const migrate = () => migrateLegacyDump(source.path, zone, legacyTarget, state);
      if (!legacyTarget) return migrate();
      return legacyTarget.bulkLoad((load) => {
        sizeBatches(load);
        return migrate();
      });
    }
    case 'jsonl':
      return migrateJsonl(source.path, target, state, sizeBatches);
    case 'store':
      return migrateStore(sourceCache!, target, state, sizeBatches);
  }
}

/** Why a run stopped, as one line (never a secret: core and the parsers quote no input). */
function fatalMessage(error: unknown): string {
  if (error instanceof JsonSyntaxError) return `malformed dump: ${error.message}`;
  if (error instanceof StoreUnavailableError) return `store unavailable: ${error.message}`;
  if (error instanceof FatalError) return error.message;
  return `unexpected ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
}

/**
 * `oauth-cache migrate`: legacy dump, JSONL export or another store into the target store. Exit 0
 * when errors <= --max-errors, 1 otherwise or on a fatal stop, 2 for usage errors (thrown as
 * {@link UsageError} before anything is written), 130 when interrupted.
 */
export async function runMigrate(opts: MigrateOptions, io: CliIO): Promise<ExitCodeValue> {
  const startedAt = performance.now();
  const { source, zone, sourceSize, targetUrl, config, binding } = await prepare(opts, io);
  const reporter = new Reporter(io.stdout, io.stderr);
  const state: RunState = {
    counts: emptyCounts(),
    reporter,
    progress: undefined,
    stop: { requested: false },
    concurrency: opts.concurrency,
    // Placeholder: `run` sizes the batches once the target is open.
    ...batchSizing(opts.batchSize, null),
  };
  let sourceCache: TokenCache | null = null;
  let target: TokenCache | null = null;
  let fatal: string | null = null;
  const removeInterrupt = io.onInterrupt?.(() => {
    if (state.stop.requested) return;
    state.stop.requested = true;
    reporter.problem('interrupted: finishing the batch in flight, then stopping');
  });
  try {
    if (source.kind === 'store') sourceCache = await openCache(source.url, config!, '--from');
    if (!opts.dryRun) {
      target = await openCache(targetUrl, config!, '--to');
      await ensureRoom(target, demandOf(source, sourceSize, zone, target, sourceCache));
    }
    if (reporter.interactive && !opts.json) {
      state.progress = new ProgressBar(
        io.stderr,
        opts.dryRun ? 'check' : 'migrate',
        sourceSize,
        source.kind === 'legacy' ? 'entries' : 'records',
      );
      reporter.progress = state.progress;
    }
    await run(source, zone, target, sourceCache, opts, binding, state);
    if (target) await warnAboutEvictions(target, state);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    fatal = fatalMessage(error);
  } finally {
    removeInterrupt?.();
    if (state.progress) {
      state.progress.finish();
      reporter.progress = undefined;
    }
    await Promise.allSettled([sourceCache?.close(), target?.close()]);
  }
  if (fatal !== null) reporter.problem(`fatal: ${fatal}`);
  const summary: MigrationSummary = {
    ok: fatal === null && !state.stop.requested && state.counts.errors <= opts.maxErrors,
    dryRun: opts.dryRun === true,
    source: source.label,
    target: maskUrl(targetUrl),
    ...state.counts,
    maxErrors: opts.maxErrors,
    seconds: Math.round(performance.now() - startedAt) / 1000,
    interrupted: state.stop.requested,
    fatal,
  };
  reporter.result(opts.json ? JSON.stringify(summary) : formatSummary(summary));
  return exitCodeOf(summary);
}

/**
 * Say so when the store ends above `maxTokens` (another process wrote while the run did: a
 * migration itself never evicts and checks its room first): new tokens are then refused.
 */
async function warnAboutEvictions(target: TokenCache, state: RunState): Promise<void> {
  const stats = await target.stats();
  const cap = target.config.maxTokens;
  if (stats.summary.totalActiveTokens > cap) {
    state.counts.warnings++;
    state.reporter.problem(
      `warning: the store holds ${stats.summary.totalActiveTokens} tokens but the cache keeps at most ${cap} (MAX_TOKEN_CACHE_SIZE): new tokens (logins, refreshes) are refused until it holds fewer; raise it`,
    );
  }
}
