/**
 * Refuses outbound targets inside the node's own networks (SSRF). A URL passes only
 * if its scheme is http(s) and every address its host stands for is public, unless
 * private targets are allowed; cloud-metadata, multicast and unspecified never pass.
 */
import { isIP } from 'node:net';
import { classifyIp, IpClass } from './ip-class';

export class BlockedTargetError extends Error {
  constructor(
    message: string,
    readonly ipClass?: IpClass,
    readonly address?: string,
  ) {
    super(message);
    this.name = 'BlockedTargetError';
  }
}

/** Resolves a host name to its IP addresses (both families); rejects when it cannot. */
export type ResolveAddresses = (hostname: string) => Promise<string[]>;

// Classes "allow private targets" opens (a test rig, a monitor inside a LAN).
// Metadata endpoints, multicast and 0.0.0.0 stay closed: no monitor needs them.
const OPENED_BY_ALLOW_PRIVATE: ReadonlySet<IpClass> = new Set<IpClass>([
  'loopback',
  'private',
  'link-local',
  'cgnat',
  'reserved',
]);

// Names that reach the node itself or the cloud's metadata service without DNS.
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'instance-data']);

export function isAllowedClass(cls: IpClass, allowPrivate: boolean): boolean {
  return cls === 'public' || (allowPrivate && OPENED_BY_ALLOW_PRIVATE.has(cls));
}

/** Throws BlockedTargetError unless `address` may be connected to. */
export function assertAllowedAddress(address: string, allowPrivate: boolean): void {
  const cls = classifyIp(address);
  if (!isAllowedClass(cls, allowPrivate)) {
    throw new BlockedTargetError(`address ${address} is ${cls}`, cls, address);
  }
}

/** URL hostname without IPv6 brackets and without the root dot ("a.com." is "a.com"). */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

/** Class implied by the name alone, before any resolution (RFC 6761 localhost). */
export function classifyHostname(hostname: string): IpClass | undefined {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return 'loopback';
  if (METADATA_NAMES.has(h)) return 'cloud-metadata';
  return undefined;
}

/** Parses and checks scheme and name; no resolution. */
export function parseTargetUrl(raw: string | URL, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = typeof raw === 'string' ? new URL(raw) : raw;
  } catch {
    throw new BlockedTargetError('not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BlockedTargetError(`scheme ${url.protocol} is not http or https`);
  }
  const host = bareHostname(url);
  if (host === '') throw new BlockedTargetError('URL has no host');
  if (isIP(host)) {
    assertAllowedAddress(host, allowPrivate);
  } else {
    const cls = classifyHostname(host);
    if (cls && !isAllowedClass(cls, allowPrivate)) {
      throw new BlockedTargetError(`host ${host} is ${cls}`, cls);
    }
  }
  return url;
}

/**
 * Full check: scheme, name, and every resolved address. A name resolving to a mix
 * of public and private addresses is refused (a classic rebinding set-up). The
 * result is advisory for a later connection: the checker repeats the address test
 * on the address it actually connects to.
 */
export async function assertPublicUrl(
  raw: string | URL,
  resolve: ResolveAddresses,
  allowPrivate: boolean,
): Promise<{ url: URL; addresses: string[] }> {
  const url = parseTargetUrl(raw, allowPrivate);
  const host = bareHostname(url);
  const addresses = isIP(host) ? [host] : await resolve(host);
  if (addresses.length === 0) throw new BlockedTargetError(`host ${host} has no address`);
  for (const a of addresses) assertAllowedAddress(a, allowPrivate);
  return { url, addresses };
}
