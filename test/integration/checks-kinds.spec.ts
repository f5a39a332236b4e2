/**
 * Acceptance 1 of issue 15: every kind of check and every assertion against real local
 * servers — TCP ports open and closed, certificates made at test time (valid, expiring
 * in 3 and 10 days, expired, for another host, self-signed), a local authoritative DNS
 * server answering expected and unexpected records, JSON bodies passing and failing
 * each assertion — through the same KindChecker and SSRF guard the scheduler uses.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DnsCache } from '@/modules/dns/dns-cache';
import { DnsQuery } from '@/modules/dns/dns-query';
import type { CheckResult } from '@/modules/ping/check-result';
import { checkSpecSchema } from '@/modules/ping/check-spec';
import { KindChecker } from '@/modules/ping/kind-checker';
import { FakeDnsResolver } from '../unit/ping/support/fake-dns-resolver';
import { makeTestCerts, type TestCerts } from './ping/support/certs';
import { startDnsServer, type DnsServer } from './ping/support/dns-server';
import { closedPort, startTarget, type Target } from './ping/support/targets';

const TIMEOUT_MS = 1_500;

const JSON_DOC = {
  status: 'ok',
  count: 5,
  tags: ['a', 'b'],
  nested: { items: [{ 'full name': 'x y' }] },
};

function jsonRoute(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json') =>
      res.writeHead(status, { 'content-type': type }).end(body);
    if (path === '/json') return send(200, JSON.stringify(JSON_DOC));
    if (path === '/echo')
      return send(
        200,
        JSON.stringify({
          method: req.method,
          probe: req.headers['x-probe'] ?? null,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    if (path === '/teapot') return send(418, '{}');
    if (path === '/html') return send(200, '<html>maintenance</html>', 'text/html');
    if (path === '/slow') return void setTimeout(() => send(200, '{}'), 300);
    if (path === '/see-other') return void res.writeHead(303, { location: '/echo' }).end();
    send(404, '{}');
  });
}

describe('check kinds against real local servers', () => {
  let certs: TestCerts;
  let json: Server;
  let jsonPort: number;
  let plain: Target;
  let https: Record<
    'valid' | 'in3Days' | 'in10Days' | 'expired' | 'otherHost' | 'selfSigned',
    Target
  >;
  let dns: DnsServer;
  let checker: KindChecker;
  let strict: KindChecker;

  beforeAll(async () => {
    certs = makeTestCerts();
    json = createServer(jsonRoute);
    await new Promise<void>((r) => json.listen(0, '127.0.0.1', () => r()));
    jsonPort = (json.address() as AddressInfo).port;
    plain = await startTarget();
    const kinds = ['valid', 'in3Days', 'in10Days', 'expired', 'otherHost', 'selfSigned'] as const;
    const started = await Promise.all(kinds.map((k) => startTarget(certs[k])));
    https = Object.fromEntries(kinds.map((k, i) => [k, started[i]])) as typeof https;
    dns = await startDnsServer({
      'site.test': { A: ['192.0.2.10', '192.0.2.11'], TXT: ['v=spf1 -all', 'hello'] },
      'mail.test': { MX: [{ exchange: 'MX1.Mail.Test', preference: 10 }] },
      'alias.test': { CNAME: 'site.test' },
      'empty.test': {},
      'silent.test': { silent: true },
    });
    const names = new FakeDnsResolver({
      'target.test': { v4: ['127.0.0.1'] },
      'rebind.test': { v4: ['93.184.216.34', '127.0.0.1'] },
    });
    const query = new DnsQuery();
    checker = new KindChecker(new DnsCache(names), query, {
      allowPrivateTargets: true,
      ca: certs.ca,
    });
    strict = new KindChecker(new DnsCache(names), query, { allowPrivateTargets: false });
  });

  afterAll(async () => {
    await Promise.all([plain, ...Object.values(https ?? {})].map((t) => t?.close()));
    await new Promise<void>((r) => (json ? json.close(() => r()) : r()));
    await dns?.close();
    await checker?.onModuleDestroy();
    await strict?.onModuleDestroy();
  });

  /** Runs one check of `url` with `check` parsed as the API would. */
  function run(url: string, check: Record<string, unknown>, c = checker): Promise<CheckResult> {
    return c.check({ url, timeoutMs: TIMEOUT_MS, check: checkSpecSchema.parse(check) });
  }

  const down = (r: CheckResult, failure: string, error: RegExp) => {
    expect(r).toMatchObject({ up: false, failure });
    expect(r.error).toMatch(error);
  };

  describe('tcp', () => {
    it('is UP when the port accepts, with the connect phase timed', async () => {
      const r = await run(`tcp://127.0.0.1:${plain.port}`, { kind: 'tcp' });
      expect(r).toMatchObject({ up: true, remoteAddress: '127.0.0.1' });
      expect(r.phases.connect).toBeGreaterThanOrEqual(0);
      expect(r.failure).toBeUndefined();
    });

    it('is DOWN (CONNECT) when nothing listens', async () => {
      down(
        await run(`tcp://127.0.0.1:${await closedPort()}`, { kind: 'tcp' }),
        'CONNECT',
        /ECONNREFUSED/,
      );
    });

    it('with tls: UP on a trusted certificate (its expiry reported), DOWN on a self-signed one', async () => {
      const ok = await run(`tcp://target.test:${https.valid.port}`, { kind: 'tcp', tls: true });
      expect(ok.up).toBe(true);
      expect(ok.certificate?.daysLeft).toBeGreaterThan(3_000);
      down(
        await run(`tcp://target.test:${https.selfSigned.port}`, { kind: 'tcp', tls: true }),
        'TLS',
        /self[- ]signed/i,
      );
    });

    it('goes through the SSRF guard on the address dialled', async () => {
      down(await run('tcp://169.254.169.254:80', { kind: 'tcp' }), 'BLOCKED', /cloud-metadata/);
      down(
        await run(`tcp://rebind.test:${plain.port}`, { kind: 'tcp' }, strict),
        'BLOCKED',
        /loopback/,
      );
      down(
        await run(`tcp://127.0.0.1:${plain.port}`, { kind: 'tcp' }, strict),
        'BLOCKED',
        /loopback/,
      );
    });
  });

  describe('tls', () => {
    const tls = (t: Target, opts: Record<string, unknown> = {}, host = 'target.test') =>
      run(`tls://${host}:${t.port}`, { kind: 'tls', ...opts });

    it('is UP without a warning on a long-valid certificate', async () => {
      const r = await tls(https.valid);
      expect(r).toMatchObject({ up: true, certificate: { warning: false } });
      expect(r.certificate!.daysLeft).toBeGreaterThan(3_000);
      expect(r.phases.tls).toBeGreaterThan(0);
    });

    it('is UP with a warning 10 days before expiry (warnDays 14)', async () => {
      const r = await tls(https.in10Days);
      expect(r).toMatchObject({ up: true, certificate: { daysLeft: 9, warning: true } });
    });

    it('is DOWN 3 days before expiry (downDays 7), UP with downDays 2', async () => {
      down(await tls(https.in3Days), 'TLS', /expires in 2 days \(DOWN below 7\)/);
      const relaxed = await tls(https.in3Days, { warnDays: 5, downDays: 2 });
      expect(relaxed).toMatchObject({ up: true, certificate: { daysLeft: 2, warning: true } });
    });

    it('is DOWN on an expired certificate, whatever the thresholds', async () => {
      const r = await tls(https.expired, { warnDays: 1, downDays: 0, checkChain: false });
      down(r, 'TLS', /expired on 2020-02-01/);
      expect(r.certificate!.daysLeft).toBeLessThan(0);
    });

    it('is DOWN on a certificate for another host, unless checkHostname is off', async () => {
      down(await tls(https.otherHost), 'TLS', /does not match target\.test/);
      expect((await tls(https.otherHost, { checkHostname: false })).up).toBe(true);
      expect((await tls(https.otherHost, {}, 'other.test')).up).toBe(false); // other.test does not resolve
    });

    it('is DOWN on an untrusted chain, unless checkChain is off', async () => {
      down(await tls(https.selfSigned), 'TLS', /chain not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/);
      expect((await tls(https.selfSigned, { checkChain: false })).up).toBe(true);
    });

    it('is DOWN (CONNECT) on a closed port and BLOCKED on a refused address', async () => {
      down(
        await run(`tls://127.0.0.1:${await closedPort()}`, { kind: 'tls' }),
        'CONNECT',
        /ECONNREFUSED/,
      );
      down(await run('tls://rebind.test', { kind: 'tls' }, strict), 'BLOCKED', /loopback/);
    });
  });

  describe('https checks report the certificate too', () => {
    it('carries days left on an http check of an https URL', async () => {
      const r = await run(https.in10Days.url('/ok', 'target.test'), { kind: 'http' });
      expect(r).toMatchObject({ up: true, certificate: { daysLeft: 9 } });
      expect(
        (await run(`http://127.0.0.1:${jsonPort}/json`, { kind: 'http' })).certificate,
      ).toBeUndefined();
    });
  });

  describe('dns', () => {
    const ask = (name: string, opts: Record<string, unknown>, c = checker) =>
      run(`dns://${name}`, { kind: 'dns', resolver: `127.0.0.1:${dns.port}`, ...opts }, c);

    it('is UP when the expected A records are answered (match all, the default)', async () => {
      expect((await ask('site.test', { expected: ['192.0.2.10', '192.0.2.11'] })).up).toBe(true);
      expect((await ask('site.test', {})).up).toBe(true); // no expectation: any answer
    });

    it('is DOWN on an unexpected answer, naming what came back', async () => {
      down(
        await ask('site.test', { expected: ['192.0.2.99'] }),
        'DNS',
        /answered \[192\.0\.2\.10, 192\.0\.2\.11\], expected all of \[192\.0\.2\.99\]/,
      );
    });

    it('honours match any and exact', async () => {
      expect(
        (await ask('site.test', { expected: ['192.0.2.10', '192.0.2.99'], match: 'any' })).up,
      ).toBe(true);
      expect((await ask('site.test', { expected: ['192.0.2.10'], match: 'exact' })).up).toBe(false);
      expect(
        (await ask('site.test', { expected: ['192.0.2.11', '192.0.2.10'], match: 'exact' })).up,
      ).toBe(true);
    });

    it('compares MX exchanges, CNAME targets and TXT strings as written', async () => {
      expect((await ask('mail.test', { recordType: 'MX', expected: ['mx1.mail.test.'] })).up).toBe(
        true,
      );
      expect((await ask('mail.test', { recordType: 'MX', expected: ['mx2.mail.test'] })).up).toBe(
        false,
      );
      expect((await ask('alias.test', { recordType: 'CNAME', expected: ['site.test'] })).up).toBe(
        true,
      );
      expect((await ask('site.test', { recordType: 'TXT', expected: ['hello'] })).up).toBe(true);
      expect((await ask('site.test', { recordType: 'TXT', expected: ['HELLO'] })).up).toBe(false);
    });

    it('is DOWN (DNS) for a name that does not exist or lacks the record type', async () => {
      down(await ask('nowhere.test', {}), 'DNS', /no A record for nowhere\.test/);
      down(
        await ask('empty.test', { recordType: 'AAAA' }),
        'DNS',
        /no AAAA record for empty\.test/,
      );
    });

    it('is DOWN (TIMEOUT) within the timeout when the resolver never answers', async () => {
      down(await ask('silent.test', {}), 'TIMEOUT', /no answer within 1500 ms/);
    });

    it('puts the chosen resolver through the SSRF guard', async () => {
      const before = dns.queries;
      down(
        await ask('site.test', {}, strict),
        'BLOCKED',
        /resolver address 127\.0\.0\.1 is loopback/,
      );
      down(await ask('site.test', { resolver: '169.254.169.254' }), 'BLOCKED', /cloud-metadata/);
      expect(dns.queries).toBe(before);
    });
  });

  describe('http assertions on JSON bodies', () => {
    const get = (
      path: string,
      assertions: Record<string, unknown>,
      extra: Record<string, unknown> = {},
    ) => run(`http://127.0.0.1:${jsonPort}${path}`, { kind: 'http', assertions, ...extra });
    const json = (rule: Record<string, unknown>) => get('/json', { json: [rule] });

    it.each([
      ['equals a string', { path: '$.status', op: 'equals', value: 'ok' }],
      ['equals a number', { path: '$.count', op: 'equals', value: 5 }],
      [
        'contains in a string',
        { path: '$.nested.items[0]["full name"]', op: 'contains', value: 'y' },
      ],
      ['contains in an array', { path: '$.tags', op: 'contains', value: 'b' }],
      ['a range', { path: '$.count', op: 'range', min: 1, max: 5 }],
      ['an open range', { path: '$.count', op: 'range', min: 5 }],
    ])('passes %s', async (_, rule) => {
      expect(await json(rule)).toMatchObject({ up: true, httpStatus: 200 });
    });

    it.each([
      [
        'equals',
        { path: '$.status', op: 'equals', value: 'degraded' },
        /\$\.status is "ok", expected "degraded"/,
      ],
      [
        'equals of another type',
        { path: '$.count', op: 'equals', value: '5' },
        /is 5, expected "5"/,
      ],
      ['contains in a string', { path: '$.status', op: 'contains', value: 'k!' }, /without "k!"/],
      ['contains in an array', { path: '$.tags', op: 'contains', value: 'c' }, /no element "c"/],
      [
        'contains on a number',
        { path: '$.count', op: 'contains', value: 5 },
        /neither a string nor an array/,
      ],
      ['a range below', { path: '$.count', op: 'range', min: 6 }, /is 5, below 6/],
      ['a range above', { path: '$.count', op: 'range', max: 4 }, /is 5, above 4/],
      ['a range on a string', { path: '$.status', op: 'range', min: 0 }, /not a number/],
      ['a missing path', { path: '$.nested.items[3]', op: 'equals', value: null }, /no such value/],
    ])('fails %s (KEYWORD)', async (_, rule, error) => {
      down(await json(rule), 'KEYWORD', error);
    });

    it('fails a JSON assertion on a body that is not JSON', async () => {
      down(
        await get('/html', { json: [{ path: '$.a', op: 'equals', value: 1 }] }),
        'KEYWORD',
        /not JSON/,
      );
    });

    it('checks texts present and absent', async () => {
      expect((await get('/html', { bodyContains: ['maintenance'] })).up).toBe(true);
      down(
        await get('/html', { bodyNotContains: ['maintenance'] }),
        'KEYWORD',
        /"maintenance" found/,
      );
      down(await get('/html', { bodyContains: ['welcome'] }), 'KEYWORD', /"welcome" not found/);
    });

    it('accepts status ranges and refuses statuses outside them', async () => {
      expect(await get('/teapot', { status: [{ min: 400, max: 499 }] })).toMatchObject({
        up: true,
        httpStatus: 418,
      });
      down(
        await get('/json', { status: [{ min: 500, max: 599 }] }),
        'HTTP_STATUS',
        /status 200, expected 500-599/,
      );
      down(await get('/teapot', {}), 'HTTP_STATUS', /status 418, expected 2xx/);
    });

    it('fails a response slower than maxLatencyMs (TIMEOUT)', async () => {
      down(await get('/slow', { maxLatencyMs: 100 }), 'TIMEOUT', /over maxLatencyMs 100/);
      expect((await get('/slow', { maxLatencyMs: 1_000 })).up).toBe(true);
    });

    it('sends the method, headers and body, and follows 303 as GET', async () => {
      const echo = [
        { path: '$.method', op: 'equals', value: 'POST' },
        { path: '$.probe', op: 'equals', value: 'v1' },
        { path: '$.body', op: 'equals', value: 'payload' },
      ];
      const post = { method: 'POST', headers: { 'X-Probe': 'v1' }, body: 'payload' };
      expect((await get('/echo', { json: echo }, post)).up).toBe(true);
      const redirected = await get(
        '/see-other',
        { json: [{ path: '$.method', op: 'equals', value: 'GET' }] },
        post,
      );
      expect(redirected).toMatchObject({ up: true, redirects: 1 });
    });
  });
});
