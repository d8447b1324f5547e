/**
 * The unit per-address limits count in. An IPv4 address is one host (or one NAT). An IPv6 client
 * usually owns a whole /64 (SLAAC, privacy addresses) and can rotate through 2^64 addresses of it
 * at will, so counting full IPv6 addresses would give it unlimited buckets: they are counted per /64.
 */
import { isIPv4, isIPv6 } from 'node:net';

/**
 * The bucket a client address is counted in: an IPv4 address as it is; an IPv4-mapped IPv6
 * address (`::ffff:192.0.2.1`, how a dual-stack socket reports IPv4 peers) as its IPv4 address;
 * any other IPv6 address as its /64 (`2001:db8:1:2::/64`, first four hextets, lowercase, without
 * leading zeros, zone index dropped). Anything else (an unparsable or empty value) is returned
 * trimmed and lowercased, so it still gets a bucket of its own.
 */
export function addressBucket(ip: string): string {
  const trimmed = ip.trim().toLowerCase();
  if (isIPv4(trimmed)) return trimmed;
  const address = trimmed.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!isIPv6(address)) return trimmed;
  const hextets = expandIPv6(address);
  if (isIPv4Mapped(hextets)) {
    const high = Number.parseInt(hextets[6] ?? '0', 16);
    const low = Number.parseInt(hextets[7] ?? '0', 16);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  const prefix = hextets.slice(0, 4).map((h) => Number.parseInt(h, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}

/** The eight hextets of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function expandIPv6(address: string): string[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right];
}

function isIPv4Mapped(hextets: string[]): boolean {
  return (
    hextets.slice(0, 5).every((h) => Number.parseInt(h, 16) === 0) &&
    Number.parseInt(hextets[5] ?? '', 16) === 0xffff
  );
}
