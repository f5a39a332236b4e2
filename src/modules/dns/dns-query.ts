/**
 * Uncached DNS questions for dns:// checks: one record type, asked of the system's
 * servers or of one chosen server. Answers come back as normalised strings (names
 * lower-case without the root dot, TXT chunks joined) so they compare as written.
 * A Resolver per chosen server is kept (bounded), never one per check.
 */
import { Resolver } from 'node:dns/promises';
import { LRUCache } from 'lru-cache';
import type { DnsRecordType } from '@/modules/ping/check-spec';

export interface DnsServer {
  address: string;
  port: number;
}

const MAX_RESOLVERS = 256;
// Bounded: a server that does not answer costs at most timeout × tries; the check's own
// deadline is usually shorter and simply stops waiting.
const RESOLVER_OPTIONS = { timeout: 3_000, tries: 2 };

export class DnsQuery {
  private readonly system = new Resolver(RESOLVER_OPTIONS);
  private readonly chosen = new LRUCache<string, Resolver>({ max: MAX_RESOLVERS });

  /** Rejects with the resolver's error (code ENOTFOUND, ENODATA, ETIMEOUT, …). */
  async ask(name: string, type: DnsRecordType, server?: DnsServer): Promise<string[]> {
    const r = server ? this.resolverFor(server) : this.system;
    switch (type) {
      case 'A':
        return r.resolve4(name);
      case 'AAAA':
        return (await r.resolve6(name)).map((a) => a.toLowerCase());
      case 'CNAME':
        return (await r.resolveCname(name)).map(normalName);
      case 'NS':
        return (await r.resolveNs(name)).map(normalName);
      case 'MX':
        return (await r.resolveMx(name)).map((mx) => normalName(mx.exchange));
      case 'TXT':
        return (await r.resolveTxt(name)).map((chunks) => chunks.join(''));
    }
  }

  private resolverFor({ address, port }: DnsServer): Resolver {
    const key = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    let r = this.chosen.get(key);
    if (!r) {
      r = new Resolver(RESOLVER_OPTIONS);
      r.setServers([key]);
      this.chosen.set(key, r);
    }
    return r;
  }
}

export function normalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
