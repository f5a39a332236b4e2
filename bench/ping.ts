/**
 * bench:ping — the ping path (scheduler, DNS cache, KindChecker, health-log sink)
 * checking N sites of each kind (http, tcp, dns, tls) at a 30 s interval against local
 * servers in a child process (HTTP and TLS on four loopback addresses, an authoritative
 * DNS server over UDP); appends checks/s, schedule lag, CPU ms per check and RSS per
 * kind to bench/RESULTS.md. The child's CPU is not counted: only the checking side.
 *
 * Env: BENCH_KINDS (http,tcp,dns,tls), BENCH_SIZES (5000), BENCH_DURATION_S (120 per
 * run), BENCH_INTERVAL_MS (30000), BENCH_TIMEOUT_MS (5000), BENCH_CONCURRENCY (256),
 * BENCH_RESULTS (bench/RESULTS.md; "-" prints only).
 */
import { makeTestCerts } from '../test/integration/ping/support/certs';
import { machineFacts, recordResults } from './support/results';
import { ChildProcess, spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Lane } from '@/core/schedule/check-lanes';
import type { AppConfig } from '@/config/app-config';
import { EventBus, OutgoingEvent } from '@/infra/events/event-bus.port';
import { DnsCache } from '@/modules/dns/dns-cache';
import { DnsRecord, DnsResolver, SystemAddress } from '@/modules/dns/dns-resolver';
import type { CheckResult } from '@/modules/ping/check-result';
import { HealthLogSink } from '@/modules/ping/health-log.sink';
import { DnsQuery } from '@/modules/dns/dns-query';
import { checkSpecSchema, type CheckKind } from '@/modules/ping/check-spec';
import { KindChecker } from '@/modules/ping/kind-checker';
import { InMemorySiteSource } from '@/modules/ping/in-memory-site-source';
import { MissReason, PingMetrics } from '@/modules/ping/ping-metrics';
import { PingScheduler } from '@/modules/ping/ping-scheduler';
import type { SiteSpec } from '@/modules/ping/site-source';

const env = (k: string, d: string) => process.env[k] ?? d;
// http-fresh: an http check with connection 'fresh' (a connection per check).
// push sites dial nothing: there is no CPU per check to measure
type BenchKind = Exclude<CheckKind, 'push'> | 'http-fresh';
const KINDS = env('BENCH_KINDS', 'http,http-fresh,tcp,dns,tls').split(',') as BenchKind[];
const SIZES = env('BENCH_SIZES', '5000').split(',').map(Number);
const DURATION_S = Number(env('BENCH_DURATION_S', '120'));
const INTERVAL_MS = Number(env('BENCH_INTERVAL_MS', '30000'));
const TIMEOUT_MS = Number(env('BENCH_TIMEOUT_MS', '5000'));
const CONCURRENCY = Number(env('BENCH_CONCURRENCY', '256'));
const RESULTS = env('BENCH_RESULTS', 'bench/RESULTS.md');
// Several loopback addresses: 333 new connections/s for minutes would otherwise run
// one (address, port) pair out of ephemeral ports while old ones sit in TIME_WAIT.
const TARGET_IPS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

// HTTP and TLS on one port number per protocol across the loopback addresses, and
// an authoritative DNS server answering every name with an A record.
const TARGET_SCRIPT = `
const http = require('node:http');
const tls = require('node:tls');
const dgram = require('node:dgram');
const packet = require('dns-packet');
const ips = ${JSON.stringify(TARGET_IPS)};
const { key, cert } = JSON.parse(process.env.BENCH_TLS);
const body = 'ok '.repeat(100);
const ports = { http: 0, tls: 0, dns: 0 };
const make = {
  http: () => http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  }),
  tls: () => tls.createServer({ key, cert }, (s) => s.end()),
};
const start = (kind, i, done) => {
  if (i === ips.length) return done();
  const s = make[kind]();
  s.listen(ports[kind], ips[i], 4096, () => { ports[kind] = s.address().port; start(kind, i + 1, done); });
};
const udp = dgram.createSocket('udp4');
udp.on('message', (msg, from) => {
  const q = packet.decode(msg);
  const question = q.questions[0];
  udp.send(packet.encode({ id: q.id, type: 'response', flags: packet.AUTHORITATIVE_ANSWER,
    questions: [question], answers: [{ name: question.name, type: 'A', ttl: 60, data: '192.0.2.1' }] }),
    from.port, from.address);
});
start('http', 0, () => start('tls', 0, () => udp.bind(0, '127.0.0.1', () => {
  ports.dns = udp.address().port;
  process.stdout.write(JSON.stringify(ports) + '\\n');
})));
process.on('SIGTERM', () => process.exit(0));
`;

type Ports = Record<'http' | 'tls' | 'dns', number>;

class NullBus extends EventBus {
  published = 0;
  override async publish(_t: string, events: OutgoingEvent[]): Promise<void> {
    this.published += events.length;
  }
  override subscribe(): never {
    throw new Error('not in the bench');
  }
  override async health() {
    return { up: true, kind: 'in-process' as const };
  }
  override async close(): Promise<void> {}
}

/** bench names → loopback addresses, with a TTL so the cache does real work */
class BenchResolver extends DnsResolver {
  override async resolve4(host: string): Promise<DnsRecord[]> {
    const i = Number(/^t(\d+)\./.exec(host)?.[1] ?? NaN);
    if (!(i >= 0 && i < TARGET_IPS.length))
      throw Object.assign(new Error(host), { code: 'ENOTFOUND' });
    return [{ address: TARGET_IPS[i], ttl: 60 }];
  }
  override async resolve6(host: string): Promise<DnsRecord[]> {
    throw Object.assign(new Error(host), { code: 'ENODATA' });
  }
  override async lookupSystem(): Promise<SystemAddress[]> {
    return [];
  }
}

class BenchMetrics extends PingMetrics {
  lags: number[] = [];
  missedBy: Record<MissReason, number> = { stall: 0, queue: 0, overlap: 0 };
  results = 0;
  down = 0;
  failures: Record<string, number> = {};
  override checkStarted(lagMs: number, lane: Lane): void {
    super.checkStarted(lagMs, lane);
    this.lags.push(lagMs);
  }
  override checkFinished(r: CheckResult, lane: Lane): void {
    super.checkFinished(r, lane);
    this.results += 1;
    if (!r.up) {
      this.down += 1;
      const k = r.failure ?? '?';
      this.failures[k] = (this.failures[k] ?? 0) + 1;
    }
  }
  override roundsMissed(n: number, reason: MissReason): void {
    super.roundsMissed(n, reason);
    this.missedBy[reason] += n;
  }
}

interface Row {
  kind: BenchKind;
  sites: number;
  expected: number;
  achieved: number;
  p50: number;
  p99: number;
  max: number;
  cores: number;
  cpuPerCheck: number;
  rssMiB: number;
  loopP99: number;
  missed: number;
  down: string;
}

async function startTargets(tls: { key: string; cert: string }) {
  const child: ChildProcess = spawn(process.execPath, ['-e', TARGET_SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_TLS: JSON.stringify(tls) },
  });
  const ports = await new Promise<Ports>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l) as Ports));
    child.once('exit', (c) => reject(new Error(`target exited ${c}`)));
  });
  return { ports, child };
}

/** Site i of a kind: spread over the four loopback addresses (by name, through the cache). */
function siteOf(kind: BenchKind, i: number, ports: Ports): Pick<SiteSpec, 'url' | 'check'> {
  const host = `t${i % TARGET_IPS.length}.bench.test`;
  switch (kind) {
    case 'http':
      return {
        url: `http://${host}:${ports.http}/site/${i}`,
        check: checkSpecSchema.parse({ kind }),
      };
    case 'http-fresh':
      return {
        url: `http://${host}:${ports.http}/site/${i}`,
        check: checkSpecSchema.parse({ kind: 'http', connection: 'fresh' }),
      };
    case 'tcp':
      return { url: `tcp://${host}:${ports.http}`, check: checkSpecSchema.parse({ kind }) };
    case 'tls':
      // The bench certificate names target.test, not the bench hosts; the chain is checked.
      return {
        url: `tls://${host}:${ports.tls}`,
        check: checkSpecSchema.parse({ kind, checkHostname: false }),
      };
    case 'dns':
      return {
        url: `dns://site-${i}.bench.test`,
        check: checkSpecSchema.parse({
          kind,
          expected: ['192.0.2.1'],
          resolver: `127.0.0.1:${ports.dns}`,
        }),
      };
  }
}

function q(sorted: number[], p: number): number {
  return sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
    : NaN;
}

async function runSize(kind: BenchKind, n: number, ports: Ports, ca: string): Promise<Row> {
  const sites: SiteSpec[] = Array.from({ length: n }, (_, i) => ({
    id: `bench-site-${i}`,
    ...siteOf(kind, i, ports),
    intervalMs: INTERVAL_MS,
    timeoutMs: TIMEOUT_MS,
    expectedStatus: [],
  }));
  const dns = new DnsCache(new BenchResolver());
  const checker = new KindChecker(dns, new DnsQuery(), { allowPrivateTargets: true, ca });
  const metrics = new BenchMetrics();
  metrics.watchDns(dns);
  const config = { node: { id: 'bench', region: 'local' } } as AppConfig;
  const bus = new NullBus();
  const sink = new HealthLogSink(bus, config, metrics);
  const scheduler = new PingScheduler(new InMemorySiteSource(sites), checker, sink, metrics, {
    concurrency: CONCURRENCY,
    suspectShare: 0.5,
    maxLateMs: 10_000,
    refreshMs: 10_000,
  });

  const loop = monitorEventLoopDelay({ resolution: 10 });
  let rssMax = 0;
  const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 1_000);
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await scheduler.start();
  await new Promise((r) => setTimeout(r, DURATION_S * 1000));
  const wallMs = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  clearInterval(rssTimer);
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
  await scheduler.stop();
  await checker.onModuleDestroy();

  const cpuMs = (cpu.user + cpu.system) / 1000;
  const lags = metrics.lags.sort((a, b) => a - b);
  const down = Object.entries(metrics.failures)
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  console.error(
    `  ${kind} ${n} sites: ${metrics.results} results, ${bus.published} published, dns ${JSON.stringify(dns.stats())}`,
  );
  return {
    kind,
    sites: n,
    expected: n / (INTERVAL_MS / 1000),
    achieved: metrics.results / (wallMs / 1000),
    p50: q(lags, 0.5),
    p99: q(lags, 0.99),
    max: lags[lags.length - 1] ?? NaN,
    cores: cpuMs / wallMs,
    cpuPerCheck: cpuMs / Math.max(1, metrics.results),
    rssMiB: rssMax / 2 ** 20,
    loopP99: loop.percentile(99) / 1e6,
    missed: metrics.missedBy.stall + metrics.missedBy.queue + metrics.missedBy.overlap,
    down: down || '0',
  };
}

function report(rows: Row[]): string {
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  return [
    '',
    `## bench:ping — ${new Date().toISOString()}`,
    '',
    `${machineFacts()} ` +
      `Interval ${INTERVAL_MS / 1000} s, timeout ` +
      `${TIMEOUT_MS} ms, concurrency ${CONCURRENCY}, ${DURATION_S} s per run. Targets in a child ` +
      `process (its CPU not counted): http = GET of a 300-byte body over the per-origin keep-alive ` +
      `pool (the API default), http-fresh = the same on a new connection per check; ` +
      `tcp = connect and close; tls = handshake (P-256 certificate, chain verified, expiry judged); ` +
      `dns = one uncached A query to a local authoritative server, answer compared. Host names ` +
      `through the DNS cache (60 s TTL); results through HealthLogSink to a null event bus.`,
    '',
    '| kind | sites | checks/s expected | checks/s achieved | lag p50 ms | lag p99 ms | lag max ms | CPU cores | CPU ms/check | RSS max MiB | loop delay p99 ms | rounds missed | down |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.kind} | ${r.sites} | ${f(r.expected)} | ${f(r.achieved)} | ${f(r.p50, 0)} | ${f(r.p99, 0)} | ${f(r.max, 0)} | ` +
        `${f(r.cores, 3)} | ${f(r.cpuPerCheck, 3)} | ${f(r.rssMiB, 0)} | ${f(r.loopP99, 0)} | ${r.missed} | ${r.down} |`,
    ),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const certs = makeTestCerts();
  const { ports, child } = await startTargets(certs.valid);
  const rows: Row[] = [];
  try {
    for (const kind of KINDS)
      for (const n of SIZES) {
        console.error(`bench:ping ${kind} ${n} sites for ${DURATION_S} s ...`);
        rows.push(await runSize(kind, n, ports, certs.ca));
        // Let the previous run's sockets leave TIME_WAIT-heavy states before the next.
        await new Promise((r) => setTimeout(r, 3_000));
      }
  } finally {
    child.kill('SIGTERM');
  }
  const text = report(rows);
  recordResults(RESULTS, text);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
