/**
 * Acceptance 2 of issue 4: the DNS cache honours record TTLs (asked again after
 * expiry, not before), clamps them, caches failures briefly, shares in-flight
 * queries and stays within its size bound.
 */
import { DnsCache, DnsCacheOptions, DnsLookupError } from '@/modules/dns/dns-cache';
import { FakeDnsResolver } from './support/fake-dns-resolver';

describe('DnsCache', () => {
  let now: number;
  let resolver: FakeDnsResolver;
  const make = (o: Partial<DnsCacheOptions> = {}) =>
    new DnsCache(resolver, { minTtlMs: 0, now: () => now, systemFallback: false, ...o });

  beforeEach(() => {
    now = 1_700_000_000_000;
    resolver = new FakeDnsResolver({
      'a.test': { v4: ['93.184.216.34'], v6: ['2606:2800:220:1::1'], ttl: 1 },
      'b.test': { v4: ['93.184.216.35'], ttl: 3600 },
      'zero.test': { v4: ['93.184.216.36'], ttl: 0 },
      'v6only.test': { v6: ['2606:2800:220:1::2'], ttl: 60 },
      'broken.test': { error: 'ESERVFAIL' },
    });
  });

  it('answers from the cache until the 1 s TTL expires, then asks again', async () => {
    const cache = make();
    const first = await cache.lookup('a.test');
    expect(first.source).toBe('query');
    expect(first.addresses).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
    expect(resolver.queriesFor('a.test')).toBe(1);

    now += 999; // not yet expired
    expect((await cache.lookup('a.test')).source).toBe('cache');
    expect(resolver.queriesFor('a.test')).toBe(1);

    now += 1; // exactly at expiry
    expect((await cache.lookup('a.test')).source).toBe('query');
    expect(resolver.queriesFor('a.test')).toBe(2);

    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('clamps TTLs to the floor and the ceiling', async () => {
    const cache = make({ minTtlMs: 5_000, maxTtlMs: 60_000 });
    await cache.lookup('zero.test');
    await cache.lookup('b.test');
    now += 4_999;
    await cache.lookup('zero.test');
    expect(resolver.queriesFor('zero.test')).toBe(1); // TTL 0 still held for the 5 s floor
    now += 1;
    await cache.lookup('zero.test');
    expect(resolver.queriesFor('zero.test')).toBe(2);
    now += 55_000; // 60 s after the first answer: the ceiling beats the 1 h TTL
    await cache.lookup('b.test');
    expect(resolver.queriesFor('b.test')).toBe(2);
  });

  it('caches "no such name" for the negative TTL, resolver failures for the error TTL', async () => {
    const cache = make({ negativeTtlMs: 5_000, errorTtlMs: 1_000 });
    await expect(cache.lookup('nowhere.invalid')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(cache.lookup('nowhere.invalid')).rejects.toBeInstanceOf(DnsLookupError);
    expect(resolver.queriesFor('nowhere.invalid')).toBe(1);
    now += 5_000;
    await expect(cache.lookup('nowhere.invalid')).rejects.toThrow();
    expect(resolver.queriesFor('nowhere.invalid')).toBe(2);

    await expect(cache.lookup('broken.test')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    now += 999;
    await expect(cache.lookup('broken.test')).rejects.toThrow();
    expect(resolver.queriesFor('broken.test')).toBe(1);
    now += 1;
    await expect(cache.lookup('broken.test')).rejects.toThrow();
    expect(resolver.queriesFor('broken.test')).toBe(2);
    expect(cache.stats()).toMatchObject({ negativeHits: 2, queryErrors: 2 });
  });

  it('a name with only AAAA records resolves (ENODATA on A is not a failure)', async () => {
    const cache = make();
    expect((await cache.lookup('v6only.test')).addresses).toEqual([
      { address: '2606:2800:220:1::2', family: 6 },
    ]);
  });

  it('is bounded: the least recently used name is evicted', async () => {
    for (let i = 0; i < 10; i++) resolver.set(`n${i}.test`, { v4: ['93.184.216.1'], ttl: 3600 });
    const cache = make({ maxEntries: 3 });
    for (let i = 0; i < 3; i++) await cache.lookup(`n${i}.test`);
    await cache.lookup('n0.test'); // n0 is now the most recent; n1 the least
    await cache.lookup('n3.test'); // evicts n1
    expect(cache.stats()).toMatchObject({ size: 3, evictions: 1 });
    await cache.lookup('n0.test');
    expect(resolver.queriesFor('n0.test')).toBe(1);
    await cache.lookup('n1.test');
    expect(resolver.queriesFor('n1.test')).toBe(2);
    for (let i = 4; i < 10; i++) await cache.lookup(`n${i}.test`);
    expect(cache.stats().size).toBe(3);
    expect(cache.stats().evictions).toBe(8);
  });

  it('concurrent lookups of one name share a single query', async () => {
    resolver.delayMs = 20;
    const cache = make();
    const all = await Promise.all(Array.from({ length: 50 }, () => cache.lookup('b.test')));
    expect(all.every((a) => a.addresses[0].address === '93.184.216.35')).toBe(true);
    expect(resolver.queriesFor('b.test')).toBe(1);
    expect(cache.stats()).toMatchObject({ misses: 1, joined: 49 });
  });

  it('normalises case and the root dot', async () => {
    const cache = make();
    await cache.lookup('B.TEST.');
    expect((await cache.lookup('b.test')).source).toBe('cache');
  });

  it('falls back to the system resolver (hosts file) when DNS has no address', async () => {
    const sys = new FakeDnsResolver();
    sys.lookupSystem = async () => [{ address: '127.0.0.1', family: 4 }];
    const cache = new DnsCache(sys, { now: () => now, minTtlMs: 5_000 });
    const a = await cache.lookup('myhost');
    expect(a.addresses).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(a.expiresAt).toBe(now + 5_000);
  });
});
