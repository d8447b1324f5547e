/**
 * Figures a scenario measured: printed as one `FIGURES <name> {json}` line (CI logs keep it) and
 * written to `results/<name>.json` in this package (git-ignored), from which README's tables are
 * copied.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Print and keep the figures of scenario `name`. */
export function recordFigures(name: string, figures: Record<string, unknown>): void {
  const entry = { scenario: name, at: new Date().toISOString(), ...figures };
  console.log(`FIGURES ${name} ${JSON.stringify(entry)}`);
  try {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(entry, null, 2)}\n`);
  } catch {
    // Read-only checkout: the printed line is enough.
  }
}
