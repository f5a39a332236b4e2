// The SSRF guard at registration: with ALLOW_PRIVATE_TARGETS=false a URL whose host is, or
// resolves to, a loopback, private, link-local, multicast or metadata address is refused with
// 422 on create and on update; an unresolvable name too. DNS answers come from a stubbed
// resolver under the real DNS cache. Sites that pass are created paused: nothing is checked.
import { DnsRecord, DnsResolver, SystemAddress } from '@/modules/dns/dns-resolver';
import { createTestApp, TestApp } from '../support/app';
import { Api, expectError } from './api-helpers';

jest.setTimeout(120_000);

/** Documentation-range stand-ins would be refused as reserved, so these are public ones. */
const PUBLIC_V4 = '93.184.215.14';
const PUBLIC_V6 = '2606:2800:21f:cb07:6820:80da:af6b:8b2c';

const ZONE: Record<string, { v4?: string[]; v6?: string[] }> = {
  'public.test': { v4: [PUBLIC_V4], v6: [PUBLIC_V6] },
  'loop.test': { v4: ['127.0.0.1'] },
  'intranet.test': { v4: ['10.0.0.5'] },
  'home.test': { v4: ['192.168.1.10'] },
  'imds.test': { v4: ['169.254.169.254'] },
  'linklocal.test': { v4: ['169.254.10.10'] },
  'multicast.test': { v4: ['239.1.2.3'] },
  'v6loop.test': { v6: ['::1'] },
  'ula.test': { v6: ['fd12:3456::1'] },
  'mixed.test': { v4: [PUBLIC_V4, '10.0.0.1'] },
};

function stubDns(t: TestApp): void {
  const resolver = t.app.get(DnsResolver);
  const fail = (code: string) => Object.assign(new Error(code), { code });
  const answer = (records: string[] | undefined): DnsRecord[] => {
    if (!records) throw fail('ENODATA');
    return records.map((address) => ({ address, ttl: 60 }));
  };
  jest.spyOn(resolver, 'resolve4').mockImplementation(async (host) => {
    if (!ZONE[host]) throw fail('ENOTFOUND');
    return answer(ZONE[host].v4);
  });
  jest.spyOn(resolver, 'resolve6').mockImplementation(async (host) => {
    if (!ZONE[host]) throw fail('ENOTFOUND');
    return answer(ZONE[host].v6);
  });
  jest.spyOn(resolver, 'lookupSystem').mockImplementation(async (): Promise<SystemAddress[]> => {
    throw fail('ENOTFOUND');
  });
}

const REFUSED: [string, string][] = [
  ['loopback literal', 'http://127.0.0.1:8080/'],
  ['loopback in decimal', 'http://2130706433/'],
  ['loopback in hex shorthand', 'http://0x7f.1/'],
  ['private 10/8 literal', 'http://10.1.2.3/'],
  ['private 172.16/12 literal', 'http://172.16.0.1/'],
  ['private 192.168/16 literal', 'https://192.168.0.1/'],
  ['cloud metadata literal', 'http://169.254.169.254/latest/meta-data/'],
  ['unspecified address', 'http://0.0.0.0/'],
  ['IPv6 loopback', 'http://[::1]/'],
  ['IPv4-mapped private IPv6', 'http://[::ffff:10.0.0.1]/'],
  ['localhost', 'http://localhost:3000/'],
  ['a subdomain of localhost', 'http://app.localhost/'],
  ['metadata.google.internal', 'http://metadata.google.internal/computeMetadata/v1/'],
  ['a name resolving to 127.0.0.1', 'http://loop.test/'],
  ['a name resolving to 10.0.0.5', 'http://intranet.test/'],
  ['a name resolving to 192.168.1.10', 'http://home.test/'],
  ['a name resolving to 169.254.169.254', 'http://imds.test/'],
  ['a name resolving to link-local', 'http://linklocal.test/'],
  ['a name resolving to multicast', 'http://multicast.test/'],
  ['a name resolving to ::1', 'http://v6loop.test/'],
  ['a name resolving to a unique-local IPv6', 'http://ula.test/'],
  ['a name resolving to public and private addresses', 'http://mixed.test/'],
];

describe('SSRF guard (ALLOW_PRIVATE_TARGETS=false)', () => {
  let t: TestApp;
  let api: Api;
  let a: string;
  beforeAll(async () => {
    t = await createTestApp({ ALLOW_PRIVATE_TARGETS: 'false' });
    stubDns(t);
    api = new Api(t);
    a = await api.signup('ssrf@example.com');
  });
  afterAll(async () => {
    expect(api?.serverErrors()).toEqual([]);
    await t?.close();
  });

  it.each(REFUSED)('refuses %s with 422', async (_, url) => {
    const res = await api.post('/api/websites', { url, paused: true }, a);
    const body = expectError(res, 422, 'TARGET_NOT_ALLOWED');
    expect(body.details).toEqual([{ path: 'url', message: expect.any(String) }]);
  });

  it('names the class of address a refused host resolves to, never the address', async () => {
    const res = await api.post('/api/websites', { url: 'http://imds.test/', paused: true }, a);
    expect(res.body.message).toMatch(/imds\.test resolves to a cloud-metadata address/);
    expect(JSON.stringify(res.body)).not.toContain('169.254.169.254');
  });

  it('accepts a name that does not resolve now (issue 16): its checks will say DNS', async () => {
    const res = await api.post('/api/websites', { url: 'https://nx.test/', paused: true }, a);
    expect(res.status).toBe(201);
  });

  it('accepts public names and addresses', async () => {
    for (const url of [
      'https://public.test/health',
      `http://${PUBLIC_V4}/`,
      `http://[${PUBLIC_V6}]/`,
    ]) {
      const res = await api.post('/api/websites', { url, paused: true }, a);
      expect({ url, status: res.status }).toEqual({ url, status: 201 });
    }
  });

  it('refuses a change of URL to a private target and keeps the old one', async () => {
    const created = await api.post(
      '/api/websites',
      { url: 'https://public.test/', paused: true },
      a,
    );
    const id = created.body.id as string;
    for (const [, url] of REFUSED.slice(0, 5)) {
      expectError(await api.put(`/api/websites/${id}`, { url }, a), 422, 'TARGET_NOT_ALLOWED');
    }
    expect((await api.get(`/api/websites/${id}`, a)).body.url).toBe('https://public.test/');
    const moved = await api.put(`/api/websites/${id}`, { url: 'https://public.test/v2' }, a);
    expect(moved.status).toBe(200);
  });
});

describe('SSRF guard (ALLOW_PRIVATE_TARGETS=true)', () => {
  let t: TestApp;
  let api: Api;
  let a: string;
  beforeAll(async () => {
    t = await createTestApp({ ALLOW_PRIVATE_TARGETS: 'true' });
    stubDns(t);
    api = new Api(t);
    a = await api.signup('lan@example.com');
  });
  afterAll(async () => {
    expect(api?.serverErrors()).toEqual([]);
    await t?.close();
  });

  it('accepts loopback and private targets', async () => {
    for (const url of ['http://127.0.0.1:9/', 'http://loop.test/', 'http://intranet.test/']) {
      const res = await api.post('/api/websites', { url, paused: true }, a);
      expect({ url, status: res.status }).toEqual({ url, status: 201 });
    }
  });

  it('still refuses cloud metadata, multicast and the unspecified address', async () => {
    for (const url of [
      'http://169.254.169.254/',
      'http://imds.test/',
      'http://multicast.test/',
      'http://0.0.0.0/',
      'http://metadata.google.internal/',
    ]) {
      const res = await api.post('/api/websites', { url, paused: true }, a);
      expect({ url, status: res.status }).toEqual({ url, status: 422 });
    }
  });
});
