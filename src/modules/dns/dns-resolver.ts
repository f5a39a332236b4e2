/**
 * The DNS port the cache sits on: raw answers with their TTLs, nothing cached.
 * The Node adapter asks the configured DNS servers directly (c-ares), so lookups
 * do not queue behind the 4-thread libuv pool that getaddrinfo uses.
 */
import { Injectable } from '@nestjs/common';
import { lookup as systemLookup, Resolver } from 'node:dns/promises';

export interface DnsRecord {
  address: string;
  /** seconds, as the authoritative answer said */
  ttl: number;
}

export interface SystemAddress {
  address: string;
  family: 4 | 6;
}

export abstract class DnsResolver {
  abstract resolve4(hostname: string): Promise<DnsRecord[]>;
  abstract resolve6(hostname: string): Promise<DnsRecord[]>;
  /** The OS resolver (hosts file, mDNS, search domains) for names DNS does not know. */
  abstract lookupSystem(hostname: string): Promise<SystemAddress[]>;
}

@Injectable()
export class NodeDnsResolver extends DnsResolver {
  // Bounded: a DNS server that does not answer costs at most timeout × tries per family.
  private readonly resolver = new Resolver({ timeout: 2_000, tries: 2 });

  resolve4(hostname: string): Promise<DnsRecord[]> {
    return this.resolver.resolve4(hostname, { ttl: true });
  }

  resolve6(hostname: string): Promise<DnsRecord[]> {
    return this.resolver.resolve6(hostname, { ttl: true });
  }

  async lookupSystem(hostname: string): Promise<SystemAddress[]> {
    const all = await systemLookup(hostname, { all: true });
    return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  }
}
