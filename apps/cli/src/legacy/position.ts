/** The two token maps of the legacy dump. */
export type LegacySection = 'access' | 'refresh';

/** JSON member name of each section in the dump. */
export const SECTION_KEYS: Record<LegacySection, string> = {
  access: 'access_tokens',
  refresh: 'refresh_tokens',
};

/** Where an entry sits in the dump. Used in every message instead of the token, which is a secret. */
export interface EntryPosition {
  section: LegacySection;
  /** 1-based rank of the entry inside its section. */
  ordinal: number;
  /** Line and column (1-based) of the entry's key. */
  line: number;
  col: number;
}

/** `refresh_tokens[#12] (line 40, col 5)`. */
export function formatPosition(p: EntryPosition): string {
  return `${SECTION_KEYS[p.section]}[#${p.ordinal}] (line ${p.line}, col ${p.col})`;
}
