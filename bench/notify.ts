/**
 * bench:notify — notification throughput and isolation of the standalone alert service, from
 * the health-alerts topic to a webhook sink (a real HTTP server in a child process, so it does
 * not share the service's event loop), with 5 signed webhook channels per alert.
 * (1) burst: BENCH_ALERTS alerts for BENCH_SITES sites produced at once → alerts/s (an alert
 *     counts when all 5 channels have it);
 * (2) paced at BENCH_RATE alerts/s for BENCH_PACED_S seconds, per-alert latency from produce to
 *     the 5th channel, for healthy sites: all channels healthy, then with 10 other sites each
 *     having a 6th channel that answers 500, then one that hangs until its 2 s timeout (each
 *     broken site raises an alert every 5 s).
 *     The ratios (failing / healthy) show whether one site's failing channel delays another's.
 * Appends a table to bench/RESULTS.md. Needs PostgreSQL and Kafka (as the integration tests).
 * Env: BENCH_ALERTS (2000), BENCH_SITES (100), BENCH_RATE (10), BENCH_PACED_S (15), BENCH_RESULTS.
 */
import { machineFacts, percentile, recordResults } from './support/results';
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { INestApplication, Logger } from '@nestjs/common';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { loadConfig } from '@/config/app-config';
import { alertDedupKey, HealthAlertV1 } from '@/modules/alerts/alert-events';
import { createAlertServiceApp } from '@/modules/alerts/alert-service.app';
import { insertChannels, insertOwnerWithSite } from '../test/integration/alerts-support/fixtures';
import { createTestDatabase, TestDatabase } from '../test/support/db';
import { ensureKafka } from '../test/support/kafka';

const env = (k: string, d: string) => process.env[k] ?? d;
const ALERTS = Number(env('BENCH_ALERTS', '2000'));
const SITES = Number(env('BENCH_SITES', '100'));
const RATE = Number(env('BENCH_RATE', '10'));
const PACED_S = Number(env('BENCH_PACED_S', '15'));
const RESULTS = env('BENCH_RESULTS', 'bench/RESULTS.md');
const CHANNELS = 5;
const now = () => performance.timeOrigin + performance.now();

// The sink: 200 for /ok/*, 500 for /fail/*, no answer for /hang/*; reports "<alertId> <ms>" lines.
const SINK_SCRIPT = `
const http = require('node:http');
const { performance } = require('node:perf_hooks');
let out = [];
const flush = () => { if (out.length) { process.stdout.write(out.join('\\n') + '\\n'); out = []; } };
setInterval(flush, 50);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.url.startsWith('/hang/')) return; // the client's timeout ends it
    if (req.url.startsWith('/fail/')) { res.writeHead(500).end('no'); return; }
    const t = performance.timeOrigin + performance.now();
    try { out.push('R ' + JSON.parse(Buffer.concat(chunks).toString()).alert.alertId + ' ' + t); } catch {}
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
`;

interface Site {
  siteId: string;
  siteUrl: string;
  round: number;
}

class Sink {
  private readonly counts = new Map<string, number>();
  readonly doneAt = new Map<string, number>();
  private readonly proc = spawn(process.execPath, ['-e', SINK_SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  readonly port: Promise<number>;

  constructor() {
    const lines = createInterface({ input: this.proc.stdout });
    let resolvePort!: (p: number) => void;
    this.port = new Promise((r) => (resolvePort = r));
    lines.on('line', (l) => {
      if (l.startsWith('PORT ')) return resolvePort(Number(l.slice(5)));
      const [, id, t] = l.split(' ');
      const n = (this.counts.get(id) ?? 0) + 1;
      this.counts.set(id, n);
      if (n === CHANNELS) this.doneAt.set(id, Number(t));
    });
  }

  async waitAll(ids: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ids.every((id) => this.doneAt.has(id))) {
      if (Date.now() > deadline) {
        const missing = ids.filter((id) => !this.doneAt.has(id)).length;
        throw new Error(
          `${missing} of ${ids.length} alerts not fully delivered within ${timeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  stop(): void {
    this.proc.kill('SIGTERM');
  }
}

function alertFor(site: Site, i: number): HealthAlertV1 {
  const round = ++site.round;
  const kind = round % 2 === 1 ? ('DOWN' as const) : ('RECOVERED' as const);
  return {
    v: 1,
    alertId: randomUUID(),
    dedupKey: alertDedupKey({ siteId: site.siteId, round, kind, region: null }),
    siteId: site.siteId,
    url: site.siteUrl,
    kind,
    region: null,
    round,
    decisionLogIndex: i + 1,
    tally: { up: 0, down: 3, total: 3 },
    at: new Date().toISOString(),
  };
}

async function makeSites(
  db: TestDatabase,
  port: number,
  n: number,
  tag: string,
  extra?: 'fail' | 'hang',
): Promise<Site[]> {
  const sites: Site[] = [];
  for (let i = 0; i < n; i++) {
    const s = await insertOwnerWithSite(db.url, `${tag}-${i}@bench.test`, `${tag} ${i}`);
    const channels = Array.from({ length: CHANNELS }, (_, c) => ({
      type: 'WEBHOOK' as const,
      name: `hook ${c}`,
      settings: {
        url: `http://127.0.0.1:${port}/ok/${tag}/${i}/${c}`,
        signingSecret: 'bench-signing-secret-0123456789',
      },
    }));
    if (extra) {
      channels.push({
        type: 'WEBHOOK' as const,
        name: `broken ${extra}`,
        settings: {
          url: `http://127.0.0.1:${port}/${extra}/${tag}/${i}`,
          signingSecret: 'bench-signing-secret-0123456789',
          ...(extra === 'hang' ? { timeoutMs: 2_000 } : {}),
        },
      });
    }
    // insertChannels keys by type; insert one by one so all six are kept.
    for (const ch of channels) await insertChannels(db.url, s.userId, [ch]);
    sites.push({ siteId: s.siteId, siteUrl: s.siteUrl, round: 0 });
  }
  return sites;
}

async function send(producer: Producer, topic: string, alerts: HealthAlertV1[]): Promise<void> {
  for (let i = 0; i < alerts.length; i += 500) {
    await producer.send({
      topic,
      messages: alerts.slice(i, i + 500).map((a) => ({ key: a.siteId, value: JSON.stringify(a) })),
    });
  }
}

async function burst(producer: Producer, topic: string, sink: Sink, sites: Site[]) {
  const alerts = Array.from({ length: ALERTS }, (_, i) => alertFor(sites[i % sites.length], i));
  const t0 = now();
  await send(producer, topic, alerts);
  await sink.waitAll(
    alerts.map((a) => a.alertId),
    300_000,
  );
  const last = Math.max(...alerts.map((a) => sink.doneAt.get(a.alertId)!));
  return { alerts: ALERTS, seconds: (last - t0) / 1000, perSecond: ALERTS / ((last - t0) / 1000) };
}

/** Alerts of `healthy` at RATE/s (plus one alert per second per broken site); healthy latencies. */
async function paced(
  producer: Producer,
  topic: string,
  sink: Sink,
  healthy: Site[],
  broken: Site[],
) {
  const produced = new Map<string, number>();
  const started = now();
  let i = 0;
  for (let tick = 0; tick < PACED_S * 10; tick++) {
    const batch: HealthAlertV1[] = [];
    for (let k = 0; k < RATE / 10; k++) batch.push(alertFor(healthy[i++ % healthy.length], i));
    if (tick % 50 === 0) for (const b of broken) batch.push(alertFor(b, i++));
    const at = now();
    for (const a of batch)
      if (healthy.some((h) => h.siteId === a.siteId)) produced.set(a.alertId, at);
    await send(producer, topic, batch);
    const wait = started + (tick + 1) * 100 - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const ids = [...produced.keys()];
  await sink.waitAll(ids, 120_000);
  const lat = ids.map((id) => sink.doneAt.get(id)! - produced.get(id)!).sort((a, b) => a - b);
  return {
    n: ids.length,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: lat[lat.length - 1],
  };
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const load = loadavg();
  const brokers = process.env.BENCH_KAFKA_BROKERS ?? (await ensureKafka());
  const runId = `bench-notify-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const topics = {
    HEALTH_ALERTS_TOPIC: `${runId}.health-alerts`,
    HEALTH_LOGS_TOPIC: `${runId}.health-logs`,
    VALIDATOR_STATUS_TOPIC: `${runId}.validator-status`,
  };
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-notify-'));
  const kafka = new Kafka({
    clientId: runId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const sink = new Sink();
  let app: INestApplication | undefined;
  try {
    const port = await sink.port;
    const burstSites = await makeSites(db, port, SITES, 'burst');
    const calm = [0, 1, 2].map(() => null);
    const healthy = await Promise.all(calm.map((_, k) => makeSites(db, port, 50, `calm${k}`)));
    const failing = await makeSites(db, port, 10, 'fail', 'fail');
    const hanging = await makeSites(db, port, 10, 'hang', 'hang');
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(topics).map((topic) => ({
        topic,
        numPartitions: 6,
        replicationFactor: 1,
      })),
    });
    const config = loadConfig({
      ...topics,
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'error',
      KAFKA_BROKERS: brokers,
      KAFKA_GROUP_ID: `${runId}-group`,
      KAFKA_TOPIC_PARTITIONS: '6',
      ALLOW_PRIVATE_TARGETS: 'true',
      DB_POOL_SIZE: '20',
    });
    app = await createAlertServiceApp(config);
    const producer = kafka.producer();
    await producer.connect();
    // Warm-up: the group joins and the first alerts flow.
    await paced(producer, topics.HEALTH_ALERTS_TOPIC, sink, healthy[0].slice(0, 5), []).catch(
      () => undefined,
    );

    const b = await burst(producer, topics.HEALTH_ALERTS_TOPIC, sink, burstSites);
    process.stderr.write(`burst: ${JSON.stringify(b)}\n`);
    const base = await paced(producer, topics.HEALTH_ALERTS_TOPIC, sink, healthy[0], []);
    process.stderr.write(`paced, all healthy: ${JSON.stringify(base)}\n`);
    const with500 = await paced(producer, topics.HEALTH_ALERTS_TOPIC, sink, healthy[1], failing);
    process.stderr.write(`paced, 10 sites with a 500 channel: ${JSON.stringify(with500)}\n`);
    const withHang = await paced(producer, topics.HEALTH_ALERTS_TOPIC, sink, healthy[2], hanging);
    process.stderr.write(`paced, 10 sites with a hanging channel: ${JSON.stringify(withHang)}\n`);
    await producer.disconnect();

    const ms = (x: number) => `${x.toFixed(0)} ms`;
    const ratio = (x: number, y: number) => `${(x / y).toFixed(2)}×`;
    recordResults(
      RESULTS,
      [
        '',
        `## bench:notify — ${new Date().toISOString()}`,
        '',
        `${machineFacts()} Load average ${load.map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min) at start: ` +
          `other work shared the CPUs. One standalone alert service (6-partition topic, 4 consumed in parallel), ` +
          `local PostgreSQL and Kafka, ${CHANNELS} HMAC-signed webhook channels per alert to an HTTP sink in a ` +
          `child process; an alert counts when all ${CHANNELS} channels have it (e-mail is logged, not sent).`,
        '',
        '| measure | value |',
        '|---|---:|',
        `| burst: ${b.alerts} alerts (${SITES} sites) produced at once → all ${CHANNELS} channels | ${b.perSecond.toFixed(0)} alerts/s (${(b.perSecond * CHANNELS).toFixed(0)} notifications/s, ${b.seconds.toFixed(1)} s) |`,
        `| paced ${RATE} alerts/s, all healthy: latency p50 / p99 / max | ${ms(base.p50)} / ${ms(base.p99)} / ${ms(base.max)} (${base.n} alerts) |`,
        `| same, 10 other sites have a channel answering 500: p50 / p99 / max | ${ms(with500.p50)} / ${ms(with500.p99)} / ${ms(with500.max)} |`,
        `| ratio 500-channel / healthy: p50, p99 | ${ratio(with500.p50, base.p50)}, ${ratio(with500.p99, base.p99)} |`,
        `| same, 10 other sites have a channel that hangs (2 s timeout): p50 / p99 / max | ${ms(withHang.p50)} / ${ms(withHang.p99)} / ${ms(withHang.max)} |`,
        `| ratio hanging-channel / healthy: p50, p99 | ${ratio(withHang.p50, base.p50)}, ${ratio(withHang.p99, base.p99)} |`,
        '',
      ].join('\n'),
    );
  } finally {
    await app?.close();
    sink.stop();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
