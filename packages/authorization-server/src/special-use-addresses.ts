/**
 * Addresses a server-side fetch must never reach (SSRF): private, loopback, link-local, shared,
 * multicast, reserved and other special-use ranges (IANA IPv4/IPv6 special-purpose registries),
 * plus every IPv6 form that embeds an IPv4 address (mapped, NAT64, 6to4, Teredo), refused as a
 * whole rather than decoded.
 */
import { BlockList, isIP } from 'node:net';

const IPV4_SPECIAL: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT (shared)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata: 169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes broadcast 255.255.255.255
];

const IPV6_SPECIAL: ReadonlyArray<readonly [string, number]> = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64 well-known prefix
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments, includes Teredo 2001::/32
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const special = new BlockList();
for (const [net, prefix] of IPV4_SPECIAL) special.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of IPV6_SPECIAL) special.addSubnet(net, prefix, 'ipv6');

// IPv6 forms of IPv4 addresses, all refused. Kept apart and consulted for IPv6 addresses only:
// BlockList matches an IPv4 address against IPv6 rules through its mapped form, so in `special`
// these would refuse every IPv4 address.
const ipv4InIpv6 = new BlockList();
ipv4InIpv6.addSubnet('::ffff:0:0', 96, 'ipv6'); // IPv4-mapped
ipv4InIpv6.addSubnet('::', 96, 'ipv6'); // IPv4-compatible (deprecated), includes :: and ::1

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** True when `address` (an IP literal) is special-use; anything that is not an IP counts as special. */
export function isSpecialUseAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return special.check(address, 'ipv4');
  return special.check(address, 'ipv6') || ipv4InIpv6.check(address, 'ipv6');
}

/** True when `address` is a loopback address (127.0.0.0/8 or ::1). */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return loopback.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether a fetch may connect to `address`: not special-use, or loopback when `allowLoopback`
 * (tests only) says so.
 */
export function isAllowedAddress(address: string, allowLoopback = false): boolean {
  if (allowLoopback && isLoopbackAddress(address)) return true;
  return !isSpecialUseAddress(address);
}
