/**
 * The SSRF guard classifies every address family and refuses the ranges a check
 * must never reach; "allow private" opens LAN ranges but never metadata endpoints.
 */
import { classifyIp, IpClass } from '@/common/net/ip-class';
import {
  assertPublicUrl,
  BlockedTargetError,
  classifyHostname,
  parseTargetUrl,
} from '@/common/net/ssrf-guard';

describe('classifyIp', () => {
  const cases: [string, IpClass][] = [
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['169.254.10.10', 'link-local'],
    ['169.254.169.254', 'cloud-metadata'],
    ['168.63.129.16', 'cloud-metadata'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['203.0.113.9', 'reserved'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['2606:4700:4700::1111', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'cloud-metadata'],
    ['fd00:ec2::253', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'], // Teredo
    ['100::1', 'reserved'],
    ['3fff::1', 'public'],
    ['4000::1', 'reserved'],
    // IPv4 inside IPv6: judged as the IPv4 it carries
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'cloud-metadata'],
    ['::ffff:a9fe:a9fe', 'cloud-metadata'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::1', 'loopback'], // 6to4 of 127.0.0.1
    ['2002:0808:0808::1', 'public'],
    // not addresses
    ['localhost', 'invalid'],
    ['1.2.3', 'invalid'],
    ['', 'invalid'],
  ];
  it.each(cases)('%s is %s', (address, cls) => {
    expect(classifyIp(address)).toBe(cls);
  });
});

describe('parseTargetUrl / assertPublicUrl', () => {
  const resolveTo =
    (...addresses: string[]) =>
    async () =>
      addresses;

  it('accepts public http(s) targets', async () => {
    const r = await assertPublicUrl('https://example.com/x', resolveTo('93.184.216.34'), false);
    expect(r.addresses).toEqual(['93.184.216.34']);
    expect(r.url.hostname).toBe('example.com');
  });

  it.each([
    'ftp://example.com/',
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/',
    'javascript:alert(1)',
    'not a url',
  ])('refuses %s (scheme or syntax)', async (u) => {
    await expect(assertPublicUrl(u, resolveTo('93.184.216.34'), true)).rejects.toThrow(
      BlockedTargetError,
    );
  });

  it.each([
    'http://127.0.0.1/',
    'http://0x7f.1/', // WHATWG parsing turns it into 127.0.0.1
    'http://2130706433/',
    'http://[::1]:8080/',
    'http://[::ffff:127.0.0.1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/',
    'http://10.0.0.1/',
    'http://localhost/',
    'http://api.localhost./',
    'http://metadata.google.internal/',
  ])('refuses %s without resolving', (u) => {
    expect(() => parseTargetUrl(u, false)).toThrow(BlockedTargetError);
  });

  it('refuses a name whose addresses include a private one (rebinding set-up)', async () => {
    await expect(
      assertPublicUrl('http://evil.example/', resolveTo('93.184.216.34', '10.0.0.5'), false),
    ).rejects.toThrow(/10\.0\.0\.5 is private/);
  });

  it('allowPrivate opens LAN and loopback, never metadata, multicast or 0.0.0.0', async () => {
    await expect(
      assertPublicUrl('http://127.0.0.1:3000/', resolveTo(), true),
    ).resolves.toBeDefined();
    await expect(
      assertPublicUrl('http://intranet.example/', resolveTo('192.168.0.10'), true),
    ).resolves.toBeDefined();
    expect(() => parseTargetUrl('http://localhost/', true)).not.toThrow();
    for (const u of ['http://169.254.169.254/', 'http://0.0.0.0/', 'http://224.0.0.1/']) {
      expect(() => parseTargetUrl(u, true)).toThrow(BlockedTargetError);
    }
    expect(() => parseTargetUrl('http://metadata.google.internal/', true)).toThrow(
      /cloud-metadata/,
    );
  });

  it('classifies names only by RFC 6761 and metadata names', () => {
    expect(classifyHostname('LOCALHOST.')).toBe('loopback');
    expect(classifyHostname('a.b.localhost')).toBe('loopback');
    expect(classifyHostname('localhost.example.com')).toBeUndefined();
    expect(classifyHostname('example.com')).toBeUndefined();
  });
});
