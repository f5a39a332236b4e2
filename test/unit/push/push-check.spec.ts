import { DnsCache } from '@/modules/dns/dns-cache';
import { DnsQuery } from '@/modules/dns/dns-query';
import { checkSpecSchema, pushSiteIdOf, targetProblem } from '@/modules/ping/check-spec';
import { KindChecker } from '@/modules/ping/kind-checker';
import { BeatLedger } from '@/modules/push/beat-ledger';
import { FakeDnsResolver } from '../ping/support/fake-dns-resolver';

const SITE = '0b6f3a52-8a57-4d4e-9d55-3c2b7f1e0a11';

describe('the push kind', () => {
  it('has documented defaults and bounds', () => {
    expect(checkSpecSchema.parse({ kind: 'push' })).toEqual({
      kind: 'push',
      periodS: 60,
      graceS: 30,
    });
    for (const bad of [{ periodS: 1 }, { periodS: 86_401 }, { graceS: -1 }, { graceS: 3_601 }])
      expect(checkSpecSchema.safeParse({ kind: 'push', ...bad }).success).toBe(false);
    expect(checkSpecSchema.safeParse({ kind: 'push', url: 'x' }).success).toBe(false);
  });

  it('targets push://<site id> only', () => {
    expect(targetProblem('push', `push://${SITE}`)).toBeNull();
    expect(pushSiteIdOf(`push://${SITE}`)).toBe(SITE);
    for (const bad of ['push://', `push://${SITE}/x`, `https://${SITE}`, 'push://not-an-id'])
      expect(targetProblem('push', bad)).toBe('expected push://<site id>');
  });

  it('a validator votes from the replicated last beat and its own clock', async () => {
    let now = 50_000;
    const ledger = new BeatLedger();
    const checker = new KindChecker(
      new DnsCache(new FakeDnsResolver(), { systemFallback: false }),
      new DnsQuery(),
      {},
      ledger,
      () => now,
    );
    const target = {
      url: `push://${SITE}`,
      check: checkSpecSchema.parse({ kind: 'push', periodS: 4, graceS: 2 }),
      timeoutMs: 1_000,
    };
    const before = await checker.check(target);
    expect(before).toMatchObject({ up: false, failure: 'TIMEOUT', checkedAt: 50_000 });
    ledger.apply({
      index: 1,
      term: 1,
      type: 'command',
      data: JSON.stringify({ at: 49_000, sites: [SITE] }),
    });
    expect(await checker.check(target)).toMatchObject({ up: true, latencyMs: 0 });
    now = 49_000 + 6_001;
    expect(await checker.check(target)).toMatchObject({
      up: false,
      failure: 'TIMEOUT',
      error: 'no beat for 6 s (period 4 s + grace 2 s)',
    });
    await checker.onModuleDestroy();
  });
});
