import { utcFields, type ZoneResolver } from './zone.js';

/**
 * ISO-8601 date-time as Python's `datetime.isoformat()` writes it (plus `Z` and a space
 * separator): `YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|+HH[:MM[:SS[.ffffff]]]]`.
 */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:(Z|z)|([+-])(\d{2})(?::?(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?)?)?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/**
 * Parse an `exp` value of the legacy dump to epoch ms. Times without an offset are local times of
 * `zone` (the old server wrote `datetime.now()`-based naive times). Returns `null` when the text is
 * not a valid date-time (wrong format or out-of-range fields, e.g. month 13 or 30 February).
 */
export function parseLegacyExpiry(text: string, zone: ZoneResolver): number | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const wall = utcFields(year, month, day, hour, minute, second, ms);
  if (m[8] !== undefined) return wall;
  if (m[9] === undefined) return zone.wallToEpoch(wall);
  const offHours = Number(m[10]);
  const offMinutes = m[11] === undefined ? 0 : Number(m[11]);
  const offSeconds = m[12] === undefined ? 0 : Number(m[12]);
  if (offHours > 23 || offMinutes > 59 || offSeconds > 59) return null;
  const offset = (offHours * 3600 + offMinutes * 60 + offSeconds) * 1000;
  return m[9] === '+' ? wall - offset : wall + offset;
}
