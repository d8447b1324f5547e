/**
 * Running the official MCP conformance suite (`conformance server|authorization`) and reading what
 * it wrote: one `checks.json` per scenario in its output folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One check of a scenario, as the suite records it. */
export interface ConformanceCheck {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  description?: string;
  errorMessage?: string;
  details?: { message?: string };
}

/** A scenario's checks. */
export interface ScenarioResult {
  scenario: string;
  checks: ConformanceCheck[];
}

/**
 * What a scenario folder is named after: `<kind>-<scenario>-<ISO timestamp with dashes>`, e.g.
 * `server-tools-list-2026-12-07T06-53-29-573Z`.
 */
function scenarioOf(folder: string, kind: string): string {
  return folder.replace(new RegExp(`^${kind}-`), '').replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, '');
}

/** Every scenario result in `outputDir` (written by `--output-dir`). */
export function readResults(outputDir: string, kind: 'server' | 'authorization-server'): ScenarioResult[] {
  return readdirSync(outputDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({
      scenario: scenarioOf(entry.name, kind),
      checks: JSON.parse(
        readFileSync(join(outputDir, entry.name, 'checks.json'), 'utf8'),
      ) as ConformanceCheck[],
    }))
    .sort((a, b) => a.scenario.localeCompare(b.scenario));
}

/** The suite's own rule (`--expected-failures`): a scenario fails on any FAILURE or WARNING. */
export function failed(result: ScenarioResult): boolean {
  return result.checks.some((check) => check.status === 'FAILURE' || check.status === 'WARNING');
}

/** The checks that made a scenario fail, as `id: message`. */
export function failures(result: ScenarioResult): string[] {
  return result.checks
    .filter((check) => check.status === 'FAILURE' || check.status === 'WARNING')
    .map(
      (check) => `${check.id}: ${check.errorMessage ?? check.details?.message ?? check.description ?? ''}`,
    );
}

/** The scenario names listed under `server:` in an expected-failures file (one `- name` a line). */
export function listedScenarios(yaml: string): string[] {
  return [...yaml.matchAll(/^\s*-\s*([\w/-]+)\s*$/gm)].map((match) => match[1] as string).sort();
}
