import type { JsonPrimitive } from '../json/token.js';
import type { EntryPosition } from './position.js';

/** Stands for an object or array found where a primitive was expected (its content is not kept). */
export interface ContainerMark {
  readonly container: 'object' | 'array';
}
export const OBJECT_MARK: ContainerMark = Object.freeze({ container: 'object' });
export const ARRAY_MARK: ContainerMark = Object.freeze({ container: 'array' });

/** A field value as read: a primitive, or a mark for a nested container. */
export type FieldValue = JsonPrimitive | ContainerMark;

/** Fields the migration reads; any other member of an entry is ignored (and not kept in memory). */
export const KNOWN_FIELDS = ['login', 'password', 'exp', 'rotation_counter'] as const;
export type KnownField = (typeof KNOWN_FIELDS)[number];

/** JSON type of an entry's value. */
export type JsonType = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

/** One `"<token>": {...}` member of a section, as read, before validation. */
export interface RawEntry {
  position: EntryPosition;
  token: string;
  type: JsonType;
  /** Known fields present in the entry; `undefined` = missing, `null` = JSON null. */
  fields: Partial<Record<KnownField, FieldValue>>;
  /** Known fields that appeared more than once. */
  duplicateFields?: KnownField[];
}

/** JSON type name of a field value, for messages. */
export function typeOfField(value: FieldValue): JsonType {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.container;
  return typeof value as 'string' | 'number' | 'boolean';
}
