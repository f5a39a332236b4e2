/**
 * The per-origin keep-alive pool of http checks (connection 'reuse', the API default)
 * against real local servers: checks share connections, each connection is closed
 * after `requestsPerConnection` checks, a kept connection the server dropped is not
 * a DOWN, a server that is really gone is, and the SSRF guard still sees every dial.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DnsCache } from '@/modules/dns/dns-cache';
import type { CheckTarget } from '@/modules/ping/check-result';
import { checkSpecSchema } from '@/modules/ping/check-spec';
import { HttpChecker } from '@/modules/ping/http-checker';
import { FakeDnsResolver } from '../unit/ping/support/fake-dns-resolver';
import { startTarget, type Target } from './ping/support/targets';

const reuse = checkSpecSchema.parse({ kind: 'http' });
const fresh = checkSpecSchema.parse({ kind: 'http', connection: 'fresh' });

/**
 * Answers every request with keep-alive, then drops the socket the moment the next
 * request arrives on it (a server that closed an idle connection as it was reused).
 */
async function startDropper(): Promise<{
  port: number;
  connections: () => number;
  close(): Promise<void>;
}> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let served = 0;
    s.on('data', () => {
      if (served++ > 0) return s.destroy();
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('http checks over the per-origin keep-alive pool', () => {
  let target: Target;
  const names = new FakeDnsResolver({ 'rebind.test': { v4: ['93.184.216.34', '127.0.0.1'] } });
  const checkers: HttpChecker[] = [];
  const checker = (o: ConstructorParameters<typeof HttpChecker>[1] = {}) => {
    const c = new HttpChecker(new DnsCache(names), { allowPrivateTargets: true, ...o });
    checkers.push(c);
    return c;
  };
  const run = (c: HttpChecker, url: string, check = reuse) =>
    c.check({ url, timeoutMs: 2_000, check } satisfies CheckTarget);

  beforeAll(async () => {
    target = await startTarget();
  });
  afterAll(async () => {
    await Promise.all(checkers.map((c) => c.close()));
    await target?.close();
  });

  it('carries the checks of many sites of one origin over one connection', async () => {
    const c = checker({ poolConnections: 1 });
    const before = target.connections;
    for (let i = 0; i < 10; i++) expect((await run(c, target.url(`/ok?site=${i}`))).up).toBe(true);
    expect(target.connections - before).toBe(1);
  });

  it('opens a connection per check with connection fresh', async () => {
    const c = checker();
    const before = target.connections;
    for (let i = 0; i < 3; i++) expect((await run(c, target.url('/ok'), fresh)).up).toBe(true);
    expect(target.connections - before).toBe(3);
  });

  it('closes a pooled connection after requestsPerConnection checks, so connecting is measured again', async () => {
    const c = checker({ requestsPerConnection: 3, poolConnections: 1 });
    const before = target.connections;
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await run(c, target.url('/ok')));
    expect(results.every((r) => r.up)).toBe(true);
    // At least one new connection per 3 checks, and still fewer than one per check.
    const opened = target.connections - before;
    expect(opened).toBeGreaterThanOrEqual(3);
    expect(opened).toBeLessThan(7);
    expect(results.filter((r) => r.phases.connect !== undefined).length).toBe(opened);
  });

  it('never queues a check behind a busy pool: with every pooled connection busy it connects on its own', async () => {
    const c = checker({ poolConnections: 1 });
    const before = target.connections;
    const results = await Promise.all([1, 2, 3].map(() => run(c, target.url('/ok'))));
    expect(results.every((r) => r.up)).toBe(true);
    expect(target.connections - before).toBe(3);
    expect((await run(c, target.url('/ok'))).phases.connect).toBeUndefined(); // the pooled one again
    expect(target.connections - before).toBe(3);
  });

  it('retries on a fresh connection when the server dropped the kept one, and fails when it is gone', async () => {
    const dropper = await startDropper();
    const c = checker({ poolConnections: 1 });
    const url = `http://127.0.0.1:${dropper.port}/`;
    expect((await run(c, url)).up).toBe(true);
    const second = await run(c, url);
    expect(second).toMatchObject({ up: true, httpStatus: 200 });
    expect(dropper.connections()).toBe(2);
    await dropper.close();
    const gone = await run(c, url);
    expect(gone).toMatchObject({ up: false, failure: 'CONNECT' });
    expect(gone.error).toMatch(/ECONNREFUSED/);
  });

  it('dials pooled connections through the SSRF guard', async () => {
    const strict = checker({ allowPrivateTargets: false });
    const r = await run(strict, `http://rebind.test:${target.port}/ok`);
    expect(r).toMatchObject({ up: false, failure: 'BLOCKED' });
    expect(r.error).toMatch(/loopback/);
  });
});
