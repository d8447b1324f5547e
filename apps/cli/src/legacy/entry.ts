import { parseLegacyExpiry } from './expiry.js';
import type { EntryPosition, LegacySection } from './position.js';
import { type FieldValue, type RawEntry, typeOfField } from './raw-entry.js';
import type { ZoneResolver } from './zone.js';

/** Tokens longer than this are refused (the old server issued 43-character tokens). */
export const MAX_TOKEN_LENGTH = 4096;

/** A valid legacy entry, ready to be written. */
export interface LegacyEntry {
  kind: LegacySection;
  token: string;
  login: string;
  password: string;
  /** Epoch ms. */
  expiresAt: number;
  rotationCounter: number | undefined;
  position: EntryPosition;
}

export type EntryCheck = { ok: true; entry: LegacyEntry } | { ok: false; reasons: string[] };

/**
 * Validate a raw entry: token non-empty, value an object, `login` a non-empty string, `password` a
 * string, `exp` an ISO-8601 date-time; for refresh entries an optional non-negative integer
 * `rotation_counter`. Every problem is listed; field values are never quoted except `exp`
 * (a date is not a secret and quoting it helps to fix the dump).
 */
export function checkLegacyEntry(raw: RawEntry, zone: ZoneResolver): EntryCheck {
  const reasons: string[] = [];
  if (raw.token.length === 0) reasons.push('empty token');
  else if (raw.token.length > MAX_TOKEN_LENGTH)
    reasons.push(`token longer than ${MAX_TOKEN_LENGTH} characters`);
  if (raw.type !== 'object') {
    reasons.push(`entry must be an object with login, password and exp, got ${raw.type}`);
    return { ok: false, reasons };
  }
  for (const field of raw.duplicateFields ?? []) reasons.push(`${field}: appears more than once`);
  const { login, password, exp, rotation_counter: rotation } = raw.fields;

  if (login === undefined) reasons.push('missing field login');
  else if (typeof login !== 'string') reasons.push(`login: expected a string, got ${typeOfField(login)}`);
  else if (login.length === 0) reasons.push('login: must not be empty');

  if (password === undefined) reasons.push('missing field password');
  else if (typeof password !== 'string')
    reasons.push(`password: expected a string, got ${typeOfField(password)}`);

  let expiresAt: number | null = null;
  if (exp === undefined) reasons.push('missing field exp');
  else if (typeof exp !== 'string')
    reasons.push(`exp: expected an ISO-8601 date-time string, got ${typeOfField(exp)}`);
  else {
    expiresAt = parseLegacyExpiry(exp, zone);
    if (expiresAt === null) reasons.push(`exp: ${quote(exp)} is not a valid ISO-8601 date-time`);
  }

  let rotationCounter: number | undefined;
  if (raw.position.section === 'refresh' && rotation !== undefined && rotation !== null) {
    if (!isNonNegativeInteger(rotation)) {
      reasons.push(`rotation_counter: expected a non-negative integer, got ${describe(rotation)}`);
    } else rotationCounter = rotation;
  }

  if (reasons.length > 0) return { ok: false, reasons };
  return {
    ok: true,
    entry: {
      kind: raw.position.section,
      token: raw.token,
      login: login as string,
      password: password as string,
      expiresAt: expiresAt!,
      rotationCounter,
      position: raw.position,
    },
  };
}

function isNonNegativeInteger(v: FieldValue): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function describe(v: FieldValue): string {
  return typeof v === 'number' ? String(v) : typeOfField(v);
}

function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
}
