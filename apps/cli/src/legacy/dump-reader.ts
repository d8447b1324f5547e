import type { JsonHandler } from '../json/grammar.js';
import { JsonSyntaxError } from '../json/syntax-error.js';
import type { JsonPrimitive } from '../json/token.js';
import { type LegacySection, SECTION_KEYS } from './position.js';
import {
  ARRAY_MARK,
  type FieldValue,
  KNOWN_FIELDS,
  type KnownField,
  OBJECT_MARK,
  type RawEntry,
} from './raw-entry.js';

/** The dump does not have the shape `{"access_tokens": {...}, "refresh_tokens": {...}}`: fatal. */
export class DumpShapeError extends JsonSyntaxError {
  constructor(message: string, line: number, col: number) {
    super(message, line, col);
    this.name = 'DumpShapeError';
  }
}

/** What the reader produces: entries to validate, and warnings that do not count as errors. */
export type DumpItem = { kind: 'entry'; entry: RawEntry } | { kind: 'warning'; message: string };

const SECTIONS = new Map<string, LegacySection>(
  Object.entries(SECTION_KEYS).map(([section, key]) => [key, section as LegacySection]),
);
const KNOWN = new Set<string>(KNOWN_FIELDS);

/**
 * Turns the JSON events of a legacy dump into raw entries. Depth 1 holds the sections, depth 2 the
 * `token -> entry` members, depth 3 an entry's fields; deeper content and unknown top-level members
 * are skipped without being kept, so memory does not grow with the dump.
 */
export class LegacyDumpReader implements JsonHandler {
  private items: DumpItem[] = [];
  private depth = 0;
  /** Section being read at depth >= 2; null while inside an unknown top-level member. */
  private section: LegacySection | null = null;
  private readonly ordinals: Record<LegacySection, number> = { access: 0, refresh: 0 };
  private entry: RawEntry | null = null;
  private field: KnownField | null = null;

  /** Items read since the last call. */
  drain(): DumpItem[] {
    const out = this.items;
    this.items = [];
    return out;
  }

  /** Number of entries read so far, per section. */
  counts(): Readonly<Record<LegacySection, number>> {
    return this.ordinals;
  }

  startObject(line: number, col: number): void {
    this.open('object', line, col);
  }

  startArray(line: number, col: number): void {
    this.open('array', line, col);
  }

  endObject(): void {
    this.close();
  }

  endArray(): void {
    this.close();
  }

  key(name: string, line: number, col: number): void {
    if (this.depth === 1) {
      this.section = SECTIONS.get(name) ?? null;
      if (this.section === null) {
        // The name is not echoed: a malformed dump could hold tokens at the top level.
        this.items.push({
          kind: 'warning',
          message: `ignoring an unknown top-level member at line ${line}, col ${col} (expected access_tokens or refresh_tokens)`,
        });
      }
    } else if (this.depth === 2 && this.section !== null) {
      const section = this.section;
      this.ordinals[section]++;
      this.entry = {
        position: { section, ordinal: this.ordinals[section], line, col },
        token: name,
        type: 'object',
        fields: {},
      };
    } else if (this.depth === 3 && this.entry !== null) {
      this.field = KNOWN.has(name) ? (name as KnownField) : null;
    }
  }

  primitive(value: JsonPrimitive, line: number, col: number): void {
    if (this.depth === 0) {
      throw new DumpShapeError(
        'the dump must be a JSON object with access_tokens and refresh_tokens',
        line,
        col,
      );
    }
    if (this.depth === 1) {
      if (this.section !== null) this.sectionNotObject(line, col);
      return;
    }
    if (this.depth === 2) {
      if (this.entry !== null) {
        this.entry.type = value === null ? 'null' : (typeof value as 'string' | 'number' | 'boolean');
        this.emit();
      }
      return;
    }
    if (this.depth === 3) this.setField(value);
  }

  end(): void {
    // Nothing pending: entries are emitted as soon as they close.
  }

  private open(kind: 'object' | 'array', line: number, col: number): void {
    const depth = this.depth;
    this.depth++;
    if (depth === 0) {
      if (kind === 'array') {
        throw new DumpShapeError(
          'the dump must be a JSON object with access_tokens and refresh_tokens',
          line,
          col,
        );
      }
    } else if (depth === 1) {
      if (kind === 'array' && this.section !== null) this.sectionNotObject(line, col);
    } else if (depth === 2) {
      if (this.entry !== null) this.entry.type = kind;
    } else if (depth === 3) {
      this.setField(kind === 'object' ? OBJECT_MARK : ARRAY_MARK);
    }
  }

  private close(): void {
    this.depth--;
    if (this.depth === 2 && this.entry !== null) this.emit();
  }

  private setField(value: FieldValue): void {
    const entry = this.entry;
    const field = this.field;
    if (entry === null || field === null || entry.type !== 'object') return;
    this.field = null;
    if (entry.fields[field] !== undefined) {
      entry.duplicateFields ??= [];
      entry.duplicateFields.push(field);
      return;
    }
    entry.fields[field] = value;
  }

  private emit(): void {
    this.items.push({ kind: 'entry', entry: this.entry! });
    this.entry = null;
    this.field = null;
  }

  private sectionNotObject(line: number, col: number): never {
    const name = SECTION_KEYS[this.section!];
    throw new DumpShapeError(`${name} must be an object mapping each token to its entry`, line, col);
  }
}
