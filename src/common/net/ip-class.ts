/**
 * Classifies an IP address (v4, v6, IPv4-mapped/translated v6) into the ranges an
 * outbound check must not reach. Pure and total: any string gets a class, and only
 * 'public' means "globally routable unicast".
 */
import { isIPv4, isIPv6 } from 'node:net';

export type IpClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'multicast'
  | 'unspecified'
  | 'cloud-metadata'
  | 'cgnat'
  | 'reserved'
  | 'invalid';

type V4Range = readonly [base: number, prefix: number, cls: IpClass];

// Order matters: the first match wins, so single addresses precede their ranges.
const V4_RANGES: readonly V4Range[] = [
  [v4('169.254.169.254'), 32, 'cloud-metadata'], // AWS, GCP, Azure, OpenStack IMDS
  [v4('168.63.129.16'), 32, 'cloud-metadata'], // Azure WireServer: public-looking, host-only
  [v4('0.0.0.0'), 8, 'unspecified'], // "this network"; connecting to 0.0.0.0 reaches localhost
  [v4('127.0.0.0'), 8, 'loopback'],
  [v4('10.0.0.0'), 8, 'private'],
  [v4('172.16.0.0'), 12, 'private'],
  [v4('192.168.0.0'), 16, 'private'],
  [v4('169.254.0.0'), 16, 'link-local'],
  [v4('100.64.0.0'), 10, 'cgnat'], // also holds Alibaba's 100.100.100.200 metadata
  [v4('224.0.0.0'), 4, 'multicast'],
  [v4('240.0.0.0'), 4, 'reserved'], // includes 255.255.255.255
  [v4('192.0.0.0'), 24, 'reserved'], // IETF protocol assignments
  [v4('192.0.2.0'), 24, 'reserved'], // documentation
  [v4('198.51.100.0'), 24, 'reserved'],
  [v4('203.0.113.0'), 24, 'reserved'],
  [v4('198.18.0.0'), 15, 'reserved'], // benchmarking
  [v4('192.88.99.0'), 24, 'reserved'], // deprecated 6to4 relay anycast
];

/** Class of an address; `invalid` for anything that is not an IP literal. */
export function classifyIp(address: string): IpClass {
  // A zone id (fe80::1%eth0) only scopes a link-local address; drop it.
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(bare)) return classifyV4(v4(bare));
  if (isIPv6(bare)) return classifyV6(parseV6(bare));
  return 'invalid';
}

export function isPublicIp(address: string): boolean {
  return classifyIp(address) === 'public';
}

function classifyV4(n: number): IpClass {
  for (const [base, prefix, cls] of V4_RANGES) {
    if (inV4(n, base, prefix)) return cls;
  }
  return 'public';
}

function classifyV6(g: number[]): IpClass {
  const w = (i: number) => g[i];
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  const embeddedV4 = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;

  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && w(7) === 1) return 'loopback';
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (deprecated compatible) carry an IPv4
  // address the OS may connect to as such: judge that address.
  if (zeroUpTo(5) && w(5) === 0xffff) return classifyV4(embeddedV4(w(6), w(7)));
  if (zeroUpTo(6)) return classifyV4(embeddedV4(w(6), w(7)));
  // NAT64 well-known prefix 64:ff9b::/96 is translated to the embedded IPv4.
  if (w(0) === 0x64 && w(1) === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return classifyV4(embeddedV4(w(6), w(7)));
  }
  if (w(0) === 0x64 && w(1) === 0xff9b && w(2) === 1) return 'private'; // local-use NAT64
  // 6to4 (2002::/16) embeds an IPv4 in bits 16..48.
  if (w(0) === 0x2002) return classifyV4(embeddedV4(w(1), w(2)));
  // AWS IMDS over IPv6 (fd00:ec2::254); it sits inside fc00::/7 but deserves its own name.
  if (w(0) === 0xfd00 && w(1) === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && w(7) === 0x254) {
    return 'cloud-metadata';
  }
  if ((w(0) & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((w(0) & 0xffc0) === 0xfe80) return 'link-local';
  if ((w(0) & 0xffc0) === 0xfec0) return 'private'; // deprecated site-local
  if ((w(0) & 0xff00) === 0xff00) return 'multicast';
  if (w(0) === 0x2001 && w(1) === 0x0db8) return 'reserved'; // documentation
  if (w(0) === 0x2001 && w(1) === 0) return 'reserved'; // Teredo: tunnels to an obfuscated v4
  if (w(0) === 0x2001 && (w(1) & 0xffe0) === 0x0020) return 'reserved'; // ORCHIDv2
  if (w(0) === 0x2001 && (w(1) & 0xfff0) === 0x0010) return 'reserved'; // ORCHID
  if (w(0) === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return 'reserved'; // discard
  // Only 2000::/3 is allocated global unicast.
  if ((w(0) & 0xe000) !== 0x2000) return 'reserved';
  return 'public';
}

function v4(dotted: string): number {
  const p = dotted.split('.').map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

function inV4(n: number, base: number, prefix: number): boolean {
  if (prefix === 0) return true;
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  return (n & mask) >>> 0 === (base & mask) >>> 0;
}

/** Eight 16-bit groups of a valid IPv6 literal (node:net has validated it). */
function parseV6(addr: string): number[] {
  let text = addr.toLowerCase();
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const n = v4(tail[1]);
    text = `${text.slice(0, tail.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const hs = head ? head.split(':') : [];
  const rs = rest ? rest.split(':') : [];
  const fill = rest === undefined ? [] : new Array<string>(8 - hs.length - rs.length).fill('0');
  return [...hs, ...fill, ...rs].map((h) => parseInt(h, 16));
}
