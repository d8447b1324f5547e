import { describe, expect, it } from 'vitest';
import { addressBucket } from '../src/index.js';

describe('addressBucket', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(addressBucket('192.0.2.7')).toBe('192.0.2.7');
    expect(addressBucket(' 10.0.0.1 ')).toBe('10.0.0.1');
  });

  it('counts an IPv6 address in its /64, however it is written', () => {
    const bucket = '2001:db8:1:2::/64';
    expect(addressBucket('2001:db8:1:2::1')).toBe(bucket);
    expect(addressBucket('2001:DB8:1:2:ABCD:EF01:2345:6789')).toBe(bucket);
    expect(addressBucket('2001:0db8:0001:0002:0000:0000:0000:0001')).toBe(bucket);
    expect(addressBucket('[2001:db8:1:2::99]')).toBe(bucket);
    expect(addressBucket('2001:db8:1:2::99%eth0')).toBe(bucket);
    expect(addressBucket('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('fe80::1:2:3:4')).toBe('fe80:0:0:0::/64');
  });

  it('counts an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(addressBucket('::ffff:192.0.2.44')).toBe('192.0.2.44');
    expect(addressBucket('::FFFF:c000:022c')).toBe('192.0.2.44');
    expect(addressBucket('0:0:0:0:0:ffff:192.0.2.44')).toBe('192.0.2.44');
  });

  it('gives anything else a bucket of its own', () => {
    expect(addressBucket('')).toBe('');
    expect(addressBucket('Not-An-Address')).toBe('not-an-address');
  });
});
