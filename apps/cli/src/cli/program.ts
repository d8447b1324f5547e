import { Command, CommanderError } from 'commander';
import { runExport } from '../commands/export.js';
import { type MigrateOptions, runMigrate } from '../commands/migrate.js';
import { runPurge } from '../commands/purge.js';
import { type RevokeOptions, runRevoke } from '../commands/revoke.js';
import { runStats } from '../commands/stats.js';
import { VERSION } from '../version.js';
import { ExitCode, type ExitCodeValue, UsageError } from './errors.js';
import type { CliIO } from './io.js';
import { wholeNumber } from './option-parsers.js';

const EXIT_CODES_HELP = `
Exit codes:
  0  done (migrate: errors <= --max-errors)
  1  more errors than --max-errors, malformed input, or the store failed
  2  usage error: unknown option, unreadable file, bad URL, bad configuration
  130 interrupted (migrate: run it again to finish)

Environment:
  OAUTH_CACHE_STORE            default for --store / --to
  OAUTH_CACHE_SECRET           the server secret (required by migrate and revoke --user)
  OAUTH_CACHE_ENCRYPTION_KEYS  the server keys (required by migrate from security level enhanced on)
  MCP_PUBLIC_URL               the server's public URL: legacy tokens get the audience {MCP_PUBLIC_URL}/mcp
  MCP_LEGACY_CLIENT_ID         the client id legacy refresh tokens are bound to (default mcp-public-client)
  ENVIRONMENT, SECURITY_LEVEL, MAX_TOKEN_CACHE_SIZE, ...: as for the server (core's configFromEnv)`;

/** Shared by `migrate` and its alias `import`. */
function migrateCommand(
  program: Command,
  name: string,
  description: string,
  io: CliIO,
  done: (code: ExitCodeValue) => void,
) {
  program
    .command(name)
    .description(description)
    .requiredOption(
      '--from <source>',
      'legacy-json:<file>, jsonl:<file>, sqlite://<path> or redis://host:port',
    )
    .option('--to <store-url>', 'target store (default: OAUTH_CACHE_STORE)')
    .option('--dry-run', 'read and validate everything, write nothing (the target is not opened)')
    .option('--json', 'print exactly one JSON summary object on stdout')
    .option(
      '--batch-size <n>',
      'entries per write batch (default: 500; 2000 into a SQLite store that already holds data)',
      wholeNumber(1, 20_000),
    )
    .option('--concurrency <n>', 'writes in flight within a batch', wholeNumber(1, 1024), 32)
    .option(
      '--max-errors <n>',
      'bad entries tolerated before exit code 1',
      wholeNumber(0, Number.MAX_SAFE_INTEGER),
      0,
    )
    .option(
      '--legacy-client-id <id>',
      "client id legacy tokens are bound to, sent by their clients on refresh (default: the first of MCP_LEGACY_CLIENT_ID, else 'mcp-public-client', the Python server's)",
    )
    .option(
      '--resource <url>',
      'MCP resource (token audience) legacy tokens are bound to (default: {MCP_PUBLIC_URL}/mcp, as the server)',
    )
    .option('--legacy-tz <zone>', 'IANA time zone of legacy exp values written without an offset', 'UTC')
    .action(async (opts: MigrateOptions) => done(await runMigrate(opts, io)));
}

/**
 * Build the `oauth-cache` program. Commander never exits the process itself (`exitOverride`): usage
 * errors are printed as one line and become exit code 2 in {@link main}.
 */
export function buildProgram(io: CliIO, done: (code: ExitCodeValue) => void): Command {
  const program = new Command();
  program
    .name('oauth-cache')
    .description('Operate an oauth-cache store: migrate tokens into it, export, stats, purge, revoke.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // One line per usage error (commander adds "(Did you mean ...?)" on a second line).
      outputError: (s, write) => write(`${s.trim().replace(/\s*\n\s*/g, ' ')}\n`),
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_CODES_HELP);

  migrateCommand(
    program,
    'migrate',
    'Copy tokens from a legacy dump, a JSONL export or another store into a store.',
    io,
    done,
  );
  migrateCommand(
    program,
    'import',
    'Alias of migrate (e.g. --from jsonl:<file> written by export).',
    io,
    done,
  );

  program
    .command('stats')
    .description("Print the store's stats (active tokens, sessions, users).")
    .option('--store <url>', 'store URL (default: OAUTH_CACHE_STORE)')
    .option('--json', 'print the stats as JSON')
    .action(async (opts: { store?: string; json?: boolean }) => done(await runStats(opts, io)));

  program
    .command('purge')
    .description('Remove expired records now and report how many.')
    .option('--store <url>', 'store URL (default: OAUTH_CACHE_STORE)')
    .option('--json', 'print {"removed": n}')
    .action(async (opts: { store?: string; json?: boolean }) => done(await runPurge(opts, io)));

  program
    .command('revoke')
    .description('Revoke every token of a user or of a family (grant).')
    .option('--store <url>', 'store URL (default: OAUTH_CACHE_STORE)')
    .option('--user <login>', 'user id (the 1C login for migrated tokens)')
    .option('--family <id>', 'family id')
    .option('--json', 'print {"revoked": n}')
    .action(async (opts: RevokeOptions) => done(await runRevoke(opts, io)));

  program
    .command('export')
    .description('Write every live record as JSONL {key, value, expiresAt}; sealed fields stay sealed.')
    .option('--store <url>', 'store URL (default: OAUTH_CACHE_STORE)')
    .requiredOption('--out <file>', 'output file (written to a temp file, then renamed; mode 0600)')
    .option('--json', 'print the counts as JSON')
    .action(async (opts: { store?: string; out: string; json?: boolean }) => done(await runExport(opts, io)));

  return program;
}

/** The error message of a usage error, one line, `error:` prefixed. */
function usageLine(message: string): string {
  return `error: ${message.replace(/\s*\n\s*/g, ' ')}\n`;
}

/**
 * Run the CLI with `argv` (as `process.argv`). Resolves the exit code; never calls `process.exit`.
 */
export async function main(argv: readonly string[], io: CliIO): Promise<ExitCodeValue> {
  let code: ExitCodeValue = ExitCode.Ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; every other commander error is a usage error.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (error instanceof UsageError) {
      io.stderr.write(usageLine(error.message));
      return ExitCode.Usage;
    }
    io.stderr.write(`fatal: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.Failed;
  }
}
