/**
 * bench:ping — the ping path (scheduler, DNS cache, HttpChecker, health-log sink)
 * checking 1,000 / 5,000 / 10,000 sites at a 30 s interval against a local target
 * in a child process; appends checks/s, schedule lag, CPU and RSS to bench/RESULTS.md.
 *
 * Env: BENCH_SIZES (1000,5000,10000), BENCH_DURATION_S (120 per size),
 * BENCH_INTERVAL_MS (30000), BENCH_TIMEOUT_MS (5000), BENCH_CONCURRENCY (256),
 * BENCH_RESULTS (bench/RESULTS.md; "-" prints only).
 */
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
import { HttpChecker } from '@/modules/ping/http-checker';
import { InMemorySiteSource } from '@/modules/ping/in-memory-site-source';
import { MissReason, PingMetrics } from '@/modules/ping/ping-metrics';
import { PingScheduler } from '@/modules/ping/ping-scheduler';
import type { SiteSpec } from '@/modules/ping/site-source';

const env = (k: string, d: string) => process.env[k] ?? d;
const SIZES = env('BENCH_SIZES', '1000,5000,10000').split(',').map(Number);
const DURATION_S = Number(env('BENCH_DURATION_S', '120'));
const INTERVAL_MS = Number(env('BENCH_INTERVAL_MS', '30000'));
const TIMEOUT_MS = Number(env('BENCH_TIMEOUT_MS', '5000'));
const CONCURRENCY = Number(env('BENCH_CONCURRENCY', '256'));
const RESULTS = env('BENCH_RESULTS', 'bench/RESULTS.md');
// Several loopback addresses: 333 new connections/s for minutes would otherwise run
// one (address, port) pair out of ephemeral ports while old ones sit in TIME_WAIT.
const TARGET_IPS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

const TARGET_SCRIPT = `
const http = require('node:http');
const ips = ${JSON.stringify(TARGET_IPS)};
const body = 'ok '.repeat(100);
let port = 0;
const next = (i) => {
  if (i === ips.length) return process.stdout.write(JSON.stringify({ port }) + '\\n');
  const s = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  s.listen(port, ips[i], 4096, () => { port = s.address().port; next(i + 1); });
};
next(0);
process.on('SIGTERM', () => process.exit(0));
`;

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

async function startTarget(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', TARGET_SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (l) => resolve(JSON.parse(l).port));
    child.once('exit', (c) => reject(new Error(`target exited ${c}`)));
  });
  return { port, child };
}

function q(sorted: number[], p: number): number {
  return sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
    : NaN;
}

async function runSize(n: number, port: number): Promise<Row> {
  const sites: SiteSpec[] = Array.from({ length: n }, (_, i) => ({
    id: `bench-site-${i}`,
    url: `http://t${i % TARGET_IPS.length}.bench.test:${port}/site/${i}`,
    intervalMs: INTERVAL_MS,
    timeoutMs: TIMEOUT_MS,
    expectedStatus: [],
  }));
  const dns = new DnsCache(new BenchResolver());
  const checker = new HttpChecker(dns, { allowPrivateTargets: true });
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
  await checker.close();

  const cpuMs = (cpu.user + cpu.system) / 1000;
  const lags = metrics.lags.sort((a, b) => a - b);
  const down = Object.entries(metrics.failures)
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  console.error(
    `  ${n} sites: ${metrics.results} results, ${bus.published} published, dns ${JSON.stringify(dns.stats())}`,
  );
  return {
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
      `${TIMEOUT_MS} ms, concurrency ${CONCURRENCY}, ${DURATION_S} s per size. Target: a local ` +
      `HTTP server in a child process (its CPU not counted), fresh connection per check, DNS via ` +
      `the cache (60 s TTL), results through HealthLogSink to a null event bus.`,
    '',
    '| sites | checks/s expected | checks/s achieved | lag p50 ms | lag p99 ms | lag max ms | CPU cores | CPU ms/check | RSS max MiB | loop delay p99 ms | rounds missed | down |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.sites} | ${f(r.expected)} | ${f(r.achieved)} | ${f(r.p50, 0)} | ${f(r.p99, 0)} | ${f(r.max, 0)} | ` +
        `${f(r.cores, 3)} | ${f(r.cpuPerCheck, 3)} | ${f(r.rssMiB, 0)} | ${f(r.loopP99, 0)} | ${r.missed} | ${r.down} |`,
    ),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { port, child } = await startTarget();
  const rows: Row[] = [];
  try {
    for (const n of SIZES) {
      console.error(`bench:ping ${n} sites for ${DURATION_S} s ...`);
      rows.push(await runSize(n, port));
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
