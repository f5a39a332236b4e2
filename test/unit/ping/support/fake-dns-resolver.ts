/**
 * A DnsResolver answering from a table, counting every query, so tests can tell a
 * cache hit from a miss and make names (not) resolve at will.
 */
import { DnsRecord, DnsResolver, SystemAddress } from '@/modules/dns/dns-resolver';

export interface FakeName {
  v4?: string[];
  v6?: string[];
  /** seconds */
  ttl?: number;
  /** reject both families with this code (e.g. ESERVFAIL) */
  error?: string;
}

export class FakeDnsResolver extends DnsResolver {
  readonly queries: string[] = [];
  /** set to delay every answer (ms) */
  delayMs = 0;

  constructor(private readonly names: Record<string, FakeName> = {}) {
    super();
  }

  set(name: string, answer: FakeName): void {
    this.names[name] = answer;
  }

  queriesFor(name: string): number {
    return this.queries.filter((q) => q === name).length;
  }

  override resolve4(hostname: string): Promise<DnsRecord[]> {
    this.queries.push(hostname);
    return this.answer(hostname, 'v4');
  }

  override resolve6(hostname: string): Promise<DnsRecord[]> {
    return this.answer(hostname, 'v6');
  }

  override async lookupSystem(): Promise<SystemAddress[]> {
    throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
  }

  private async answer(hostname: string, family: 'v4' | 'v6'): Promise<DnsRecord[]> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const n = this.names[hostname];
    const fail = (code: string) => Object.assign(new Error(`${code} ${hostname}`), { code });
    if (!n) throw fail('ENOTFOUND');
    if (n.error) throw fail(n.error);
    const list = n[family] ?? [];
    if (list.length === 0) throw fail('ENODATA');
    return list.map((address) => ({ address, ttl: n.ttl ?? 60 }));
  }
}
