/**
 * In-process DNS cache shared by every check: an answer lives for its record TTL
 * clamped to [floor, ceiling], a failure for a short negative TTL, at most `maxEntries`
 * names (LRU), and concurrent lookups of one name share a single query.
 */
import { LRUCache } from 'lru-cache';
import { DnsRecord, DnsResolver } from './dns-resolver';

// cacheable-lookup@6 was the first choice; its source (6.1.0) shows why it is not used:
// no TTL floor (a TTL of 0 is never cached), Date.now() hard-wired (no fake clock),
// its `cache` option expects set(key, value, ttlNumber) which lru-cache@11 does not
// take, no hit/miss/eviction counters, and resolver errors (SERVFAIL, timeout) are
// not cached at all. The code below is the small part of it this service needs.

export interface DnsCacheOptions {
  /** shortest time an answer is kept, whatever its TTL (ms) */
  minTtlMs: number;
  /** longest time an answer is kept, whatever its TTL (ms) */
  maxTtlMs: number;
  /** how long "no such name" / "no address" is remembered (ms) */
  negativeTtlMs: number;
  /** how long a resolver failure (timeout, SERVFAIL) is remembered (ms) */
  errorTtlMs: number;
  maxEntries: number;
  /** ask the OS resolver (hosts file) when DNS has no address for the name */
  systemFallback: boolean;
  now: () => number;
}

export const DEFAULT_DNS_CACHE_OPTIONS: DnsCacheOptions = {
  minTtlMs: 5_000,
  maxTtlMs: 300_000,
  negativeTtlMs: 5_000,
  errorTtlMs: 1_000,
  maxEntries: 10_000,
  systemFallback: true,
  now: () => Date.now(),
};

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface DnsAnswer {
  hostname: string;
  /** IPv4 first: most hosts reach the Internet over v4, v6 is the fallback */
  addresses: ResolvedAddress[];
  /** epoch ms when the cached answer expires */
  expiresAt: number;
  source: 'cache' | 'query';
}

/** ENOTFOUND/ENODATA: the name has no address. Others: the resolver failed. */
export class DnsLookupError extends Error {
  constructor(
    readonly hostname: string,
    readonly code: string,
  ) {
    super(`DNS ${code} for ${hostname}`);
    this.name = 'DnsLookupError';
  }
}

export interface DnsCacheStats {
  hits: number;
  negativeHits: number;
  misses: number;
  /** lookups that joined a query already in flight for the same name */
  joined: number;
  evictions: number;
  queryErrors: number;
  size: number;
}

type Entry =
  | { ok: true; addresses: ResolvedAddress[]; expiresAt: number }
  | { ok: false; code: string; expiresAt: number };

const NO_DATA = new Set(['ENOTFOUND', 'ENODATA', 'ENOENT', 'NXDOMAIN', 'ENONAME']);

export class DnsCache {
  private readonly opts: DnsCacheOptions;
  private readonly entries: LRUCache<string, Entry>;
  private readonly pending = new Map<string, Promise<Entry>>();
  private readonly counters = {
    hits: 0,
    negativeHits: 0,
    misses: 0,
    joined: 0,
    evictions: 0,
    queryErrors: 0,
  };

  constructor(
    private readonly resolver: DnsResolver,
    options: Partial<DnsCacheOptions> = {},
  ) {
    this.opts = { ...DEFAULT_DNS_CACHE_OPTIONS, ...options };
    this.entries = new LRUCache<string, Entry>({
      max: this.opts.maxEntries,
      // Only capacity pressure counts: expiry and explicit deletes are not evictions.
      dispose: (_v, _k, reason) => {
        if (reason === 'evict') this.counters.evictions += 1;
      },
    });
  }

  /** Addresses of `hostname`, from the cache while the answer is fresh. */
  async lookup(hostname: string): Promise<DnsAnswer> {
    const key = hostname.toLowerCase().replace(/\.$/, '');
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > this.opts.now()) {
      if (cached.ok) this.counters.hits += 1;
      else this.counters.negativeHits += 1;
      return this.answer(key, cached, 'cache');
    }
    if (cached) this.entries.delete(key);

    let query = this.pending.get(key);
    if (query) {
      this.counters.joined += 1;
    } else {
      this.counters.misses += 1;
      query = this.query(key).finally(() => this.pending.delete(key));
      this.pending.set(key, query);
    }
    return this.answer(key, await query, 'query');
  }

  /** Convenience for the SSRF guard: all addresses, v4 first. */
  async resolveAll(hostname: string): Promise<string[]> {
    return (await this.lookup(hostname)).addresses.map((a) => a.address);
  }

  stats(): DnsCacheStats {
    return { ...this.counters, size: this.entries.size };
  }

  clear(): void {
    this.entries.clear();
  }

  private answer(hostname: string, e: Entry, source: DnsAnswer['source']): DnsAnswer {
    if (!e.ok) throw new DnsLookupError(hostname, e.code);
    return { hostname, addresses: e.addresses, expiresAt: e.expiresAt, source };
  }

  private async query(hostname: string): Promise<Entry> {
    const [a, aaaa] = await Promise.allSettled([
      this.resolver.resolve4(hostname),
      this.resolver.resolve6(hostname),
    ]);
    const v4 = a.status === 'fulfilled' ? a.value : [];
    const v6 = aaaa.status === 'fulfilled' ? aaaa.value : [];
    const failures = [a, aaaa]
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => errorCode(r.reason));
    const hardFailure = failures.find((c) => !NO_DATA.has(c));

    let entry: Entry;
    if (v4.length + v6.length > 0) {
      entry = this.positive(v4, v6);
    } else if (hardFailure) {
      this.counters.queryErrors += 1;
      entry = { ok: false, code: hardFailure, expiresAt: this.opts.now() + this.opts.errorTtlMs };
    } else {
      entry = (await this.systemFallback(hostname)) ?? {
        ok: false,
        code: failures.includes('ENOTFOUND') ? 'ENOTFOUND' : 'ENODATA',
        expiresAt: this.opts.now() + this.opts.negativeTtlMs,
      };
    }
    this.entries.set(hostname, entry);
    return entry;
  }

  private positive(v4: DnsRecord[], v6: DnsRecord[]): Entry {
    // The shortest TTL bounds the set: after it, at least one record may have changed.
    const ttlMs = Math.min(...[...v4, ...v6].map((r) => r.ttl * 1000));
    const kept = Math.min(this.opts.maxTtlMs, Math.max(this.opts.minTtlMs, ttlMs));
    const addresses: ResolvedAddress[] = [
      ...v4.map((r) => ({ address: r.address, family: 4 as const })),
      ...v6.map((r) => ({ address: r.address, family: 6 as const })),
    ];
    return { ok: true, addresses, expiresAt: this.opts.now() + kept };
  }

  /** Names only the hosts file knows (e.g. "localhost"); no TTL, so the floor applies. */
  private async systemFallback(hostname: string): Promise<Entry | undefined> {
    if (!this.opts.systemFallback) return undefined;
    try {
      const found = await this.resolver.lookupSystem(hostname);
      if (found.length === 0) return undefined;
      const sorted = [...found].sort((x, y) => x.family - y.family);
      return { ok: true, addresses: sorted, expiresAt: this.opts.now() + this.opts.minTtlMs };
    } catch {
      return undefined;
    }
  }
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}
