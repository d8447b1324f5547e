import { describe, expect, it } from 'vitest';
import { parseLegacyExpiry } from '../src/legacy/expiry.js';
import { ZoneResolver } from '../src/legacy/zone.js';

const utc = new ZoneResolver('UTC');
const ms = (iso: string) => Date.parse(iso);

describe('parseLegacyExpiry', () => {
  it('reads what Python isoformat writes, naive or with an offset', () => {
    expect(parseLegacyExpiry('2030-05-06T07:08:09', utc)).toBe(ms('2030-05-06T07:08:09Z'));
    expect(parseLegacyExpiry('2030-05-06T07:08:09.123456', utc)).toBe(ms('2030-05-06T07:08:09.123Z'));
    expect(parseLegacyExpiry('2030-05-06 07:08', utc)).toBe(ms('2030-05-06T07:08:00Z'));
    expect(parseLegacyExpiry('2030-05-06T07:08:09+03:00', utc)).toBe(ms('2030-05-06T04:08:09Z'));
    expect(parseLegacyExpiry('2030-05-06T07:08:09.5-05:30', utc)).toBe(ms('2030-05-06T12:38:09.500Z'));
    expect(parseLegacyExpiry('2030-05-06T07:08:09+0100', utc)).toBe(ms('2030-05-06T06:08:09Z'));
    expect(parseLegacyExpiry('2030-05-06T07:08:09+05:30:15', utc)).toBe(ms('2030-05-06T01:37:54Z'));
    expect(parseLegacyExpiry('2030-05-06T07:08:09Z', new ZoneResolver('Asia/Tokyo'))).toBe(
      ms('2030-05-06T07:08:09Z'),
    );
    expect(parseLegacyExpiry('2028-02-29T00:00:00', utc)).toBe(ms('2028-02-29T00:00:00Z'));
  });

  it('refuses malformed or impossible date-times', () => {
    for (const bad of [
      '',
      '2030-05-06',
      '2030-5-6T07:08:09',
      '2030-13-01T00:00:00',
      '2030-02-29T00:00:00',
      '2030-04-31T00:00:00',
      '2030-01-01T24:00:00',
      '2030-01-01T12:60:00',
      '2030-01-01T12:00:61',
      '2030-01-01T12:00:00+24:00',
      '2030-01-01T12:00:00 +03:00',
      'tomorrow',
      '1735689600',
    ]) {
      expect(parseLegacyExpiry(bad, utc), bad).toBeNull();
    }
  });

  it('reads naive times in the given zone (fixed offset, with DST)', () => {
    expect(parseLegacyExpiry('2030-01-15T12:00:00', new ZoneResolver('Europe/Moscow'))).toBe(
      ms('2030-01-15T09:00:00Z'),
    );
    const ny = new ZoneResolver('America/New_York');
    expect(parseLegacyExpiry('2030-01-15T12:00:00', ny)).toBe(ms('2030-01-15T17:00:00Z'));
    expect(parseLegacyExpiry('2030-07-15T12:00:00', ny)).toBe(ms('2030-07-15T16:00:00Z'));
  });

  it('resolves DST gaps forward and overlaps to the earlier instant (Python fold=0)', () => {
    const ny = new ZoneResolver('America/New_York');
    // 2030-03-10 02:30 does not exist in New York (clocks jump 02:00 -> 03:00): read as 03:30 EDT.
    expect(parseLegacyExpiry('2030-03-10T02:30:00', ny)).toBe(ms('2030-03-10T07:30:00Z'));
    // 2030-11-03 01:30 happens twice: the first one (EDT, UTC-4).
    expect(parseLegacyExpiry('2030-11-03T01:30:00', ny)).toBe(ms('2030-11-03T05:30:00Z'));
  });

  it('agrees with Intl for every hour of a year in a DST zone', () => {
    const zone = new ZoneResolver('Europe/Berlin');
    const format = new Intl.DateTimeFormat('sv-SE', {
      timeZone: 'Europe/Berlin',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    for (let t = ms('2031-01-01T00:00:00Z'); t < ms('2032-01-01T00:00:00Z'); t += 3600_000 + 17_000) {
      const wall = format.format(t).replace(' ', 'T');
      const parsed = parseLegacyExpiry(wall, zone)!;
      // Wall times of the repeated hour map to the earlier instant; all others round-trip exactly.
      expect(format.format(parsed)).toBe(format.format(t));
    }
  });

  it('refuses unknown zones and canonicalises known ones', () => {
    expect(() => new ZoneResolver('Mars/Olympus')).toThrow(RangeError);
    expect(new ZoneResolver('utc').timeZone).toBe('UTC');
  });
});
