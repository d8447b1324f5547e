/**
 * The pieces of a migration from the old Python 1C MCP server, run as real processes: the README's
 * dump function (taken from `apps/cli/README.md` as it is now), a Python process that builds and
 * dumps the old server's store with it, and the CLI's `migrate`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type ExitStatus, spawnManaged } from './child-process.js';

const require = createRequire(import.meta.url);

/** The heading in the CLI README whose ```python block is the dump function operators paste. */
export const DUMP_SECTION_HEADING = '## Getting the dump out of the old Python server';

/** `apps/cli/README.md`. */
export function cliReadmePath(): string {
  return join(dirname(require.resolve('@oauth-cache/cli/package.json')), 'README.md');
}

/** `apps/cli/dist/bin.js` (built beforehand). */
export function cliBin(): string {
  return join(dirname(require.resolve('@oauth-cache/cli/package.json')), 'dist', 'bin.js');
}

/**
 * The first ```python block of the README section {@link DUMP_SECTION_HEADING} (up to the next
 * `## ` heading). Throws, naming what is missing, when the README no longer has it.
 */
export function readmeDumpSnippet(readme: string = readFileSync(cliReadmePath(), 'utf8')): string {
  const start = readme.indexOf(`\n${DUMP_SECTION_HEADING}\n`);
  if (start < 0) throw new Error(`the CLI README has no section "${DUMP_SECTION_HEADING}"`);
  const rest = readme.slice(start + DUMP_SECTION_HEADING.length + 2);
  const next = rest.search(/^## /m);
  const section = next < 0 ? rest : rest.slice(0, next);
  const block = /^```python\n([\s\S]*?)^```$/m.exec(section);
  if (!block?.[1])
    throw new Error(`the CLI README section "${DUMP_SECTION_HEADING}" has no \`\`\`python block`);
  if (!/^def dump_oauth_store\(/m.test(block[1])) {
    throw new Error(`the \`\`\`python block of "${DUMP_SECTION_HEADING}" defines no dump_oauth_store`);
  }
  return block[1];
}

/** A token the old server issued, with the 1C login it belongs to. */
export interface LegacyToken {
  token: string;
  login: string;
}

/** What the Python fixture reports about the store it dumped (the test's oracle; never migrated). */
export interface LegacySidecar {
  clientId: string;
  utcOffsetSeconds: number;
  liveAccess: LegacyToken[];
  liveRefresh: LegacyToken[];
  /** Refresh tokens the old server had already rotated away (popped) before the dump. */
  rotatedRefresh: LegacyToken[];
  expiredAccess: LegacyToken[];
  expiredRefresh: LegacyToken[];
}

/** A finished child process: exit, stdout alone, and stdout + stderr interleaved. */
export interface FinishedProcess {
  status: ExitStatus;
  stdout: string;
  output: string;
}

/** Run `command args` with `env` (plus PATH) to its end; SIGKILL after `timeoutMs`. */
export async function runToEnd(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<FinishedProcess> {
  const proc = spawnManaged(command, args, env);
  let stdout = '';
  proc.child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  const timer = setTimeout(() => void proc.kill('SIGKILL'), timeoutMs);
  try {
    const status = await proc.exited;
    return { status, stdout, output: proc.output() };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `python3 <fixture> <scenario.json>` in the time zone `tz`: builds the old server's store, dumps it
 * to `dumpPath` with the function in `snippetPath`, writes the sidecar; resolves the sidecar.
 */
export async function runLegacyServerFixture(options: {
  fixture: string;
  scenarioPath: string;
  snippetPath: string;
  dumpPath: string;
  sidecarPath: string;
  users: ReadonlyArray<{ login: string; password: string }>;
  tz: string;
}): Promise<LegacySidecar> {
  writeFileSync(
    options.scenarioPath,
    JSON.stringify({
      snippet: options.snippetPath,
      dump: options.dumpPath,
      sidecar: options.sidecarPath,
      users: options.users.map(({ login, password }) => ({ login, password })),
    }),
  );
  const run = await runToEnd('python3', [options.fixture, options.scenarioPath], { TZ: options.tz }, 60_000);
  if (run.status.code !== 0) {
    throw new Error(`python3 ${options.fixture} exited with ${JSON.stringify(run.status)}:\n${run.output}`);
  }
  return JSON.parse(readFileSync(options.sidecarPath, 'utf8')) as LegacySidecar;
}

/** The `--json` summary of `oauth-cache migrate`. */
export interface MigrateSummary {
  ok: boolean;
  migratedAccess: number;
  migratedRefresh: number;
  migratedOther: number;
  skippedExpired: number;
  alreadyPresent: number;
  skippedRevoked: number;
  errors: number;
  fatal: string | null;
}

/** `node apps/cli/dist/bin.js <args>` with `env`; resolves the run and its parsed `--json` summary. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<FinishedProcess & { summary: MigrateSummary | undefined }> {
  const run = await runToEnd(process.execPath, [cliBin(), ...args], env, 120_000);
  let summary: MigrateSummary | undefined;
  try {
    summary = JSON.parse(run.stdout.trim()) as MigrateSummary;
  } catch {
    summary = undefined;
  }
  return { ...run, summary };
}
