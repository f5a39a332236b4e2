// The notification HTTP client refuses at send time what the SSRF guard refuses: a name that
// (now) resolves to a metadata or private address is never dialled, and literal addresses and
// localhost names are refused before any IO. The DNS answers come from a stand-in cache.
import type { AppConfig } from '@/config/app-config';
import type { DnsCache } from '@/modules/dns/dns-cache';
import { NotifyHttp, NotifyHttpError } from '@/modules/notifications/notify-http';

function client(addresses: string[], allowPrivateTargets: boolean): NotifyHttp {
  const dns = {
    lookup: async () => ({
      addresses: addresses.map((address) => ({ address, family: 4 as const })),
    }),
  } as unknown as DnsCache;
  return new NotifyHttp(dns, { ping: { allowPrivateTargets } } as AppConfig);
}

async function refusal(http: NotifyHttp, url: string): Promise<NotifyHttpError> {
  try {
    await http.post(url, {}, '{}', 2_000);
  } catch (e) {
    return e as NotifyHttpError;
  } finally {
    await http.onModuleDestroy();
  }
  throw new Error(`${url} was dialled`);
}

describe('NotifyHttp SSRF guard', () => {
  it('refuses a name re-pointed at the metadata service, even with private targets allowed', async () => {
    const e = await refusal(client(['169.254.169.254'], true), 'http://rebound.example/hook');
    expect(e).toMatchObject({ kind: 'blocked' });
    expect(e.message).toContain('169.254.169.254 is cloud-metadata');
  });

  it('refuses a name with one private address among public ones', async () => {
    const e = await refusal(
      client(['93.184.216.34', '10.0.0.7'], false),
      'http://mixed.example/hook',
    );
    expect(e).toMatchObject({ kind: 'blocked' });
    expect(e.message).toContain('10.0.0.7 is private');
  });

  it('refuses literal private addresses and localhost before any lookup', async () => {
    expect(await refusal(client([], false), 'http://127.0.0.1:9/x')).toMatchObject({
      kind: 'blocked',
    });
    expect(await refusal(client([], false), 'http://localhost/x')).toMatchObject({
      kind: 'blocked',
    });
    expect(await refusal(client([], false), 'file:///etc/passwd')).toMatchObject({
      kind: 'blocked',
    });
  });
});
