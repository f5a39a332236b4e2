import type { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import { DnsCache } from '@/modules/dns/dns-cache';
import { TargetPolicy } from '@/modules/websites/target-policy';
import { FakeDnsResolver } from '../ping/support/fake-dns-resolver';

function policy(allowPrivate: boolean, resolver: FakeDnsResolver): TargetPolicy {
  const config = { ping: { allowPrivateTargets: allowPrivate } } as AppConfig;
  return new TargetPolicy(new DnsCache(resolver, { systemFallback: false }), config);
}

async function refusal(p: TargetPolicy, url: string): Promise<DomainError> {
  const e = await p.assertAllowed(url).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DomainError);
  expect((e as DomainError).code).toBe('TARGET_NOT_ALLOWED');
  return e as DomainError;
}

describe('TargetPolicy', () => {
  const dns = new FakeDnsResolver({
    'public.test': { v4: ['93.184.215.14'] },
    'intranet.test': { v4: ['10.0.0.5'] },
    'broken.test': { error: 'ESERVFAIL' },
  });

  it('accepts public targets and resolves names through the DNS cache', async () => {
    const p = policy(false, dns);
    await expect(p.assertAllowed('https://public.test/x')).resolves.toBeUndefined();
    await expect(p.assertAllowed('https://public.test/y')).resolves.toBeUndefined();
    expect(dns.queriesFor('public.test')).toBe(1);
  });

  it('refuses private targets with a message naming the class, never the resolved address', async () => {
    const e = await refusal(policy(false, dns), 'http://intranet.test/');
    expect(e.message).toBe(
      'target not allowed: host intranet.test resolves to a private address; only public addresses can be monitored',
    );
    expect(JSON.stringify(e.details)).not.toContain('10.0.0.5');
    expect(e.details).toEqual([{ path: 'url', message: e.message }]);
    expect((await refusal(policy(false, dns), 'http://127.0.0.1/')).message).toMatch(
      /127\.0\.0\.1 is a loopback address/,
    );
  });

  it('lets private targets through only when allowed, never metadata', async () => {
    await expect(policy(true, dns).assertAllowed('http://intranet.test/')).resolves.toBeUndefined();
    await refusal(policy(true, dns), 'http://169.254.169.254/');
  });

  it('accepts names that do not resolve now, or whose resolution fails (checks report DNS)', async () => {
    await expect(policy(false, dns).assertAllowed('http://nowhere.test/')).resolves.toBeUndefined();
    await expect(policy(false, dns).assertAllowed('http://broken.test/')).resolves.toBeUndefined();
    // Still refused once the name resolves to an internal address.
    await refusal(policy(false, dns), 'http://intranet.test/');
  });
});
