/**
 * bench:realtime — (1) fan-out latency of one event to 1,000 connected Socket.IO clients (the
 * clients run in a child process, so they do not share the server's event loop; latency is
 * receive time minus emit time on the machine's high-resolution wall clock), and (2) alert
 * throughput from the health-alerts topic to an SMTP sink (a real SMTP server in a child
 * process) through the standalone alert service. Appends a table to bench/RESULTS.md.
 *
 * Needs PostgreSQL (TEST_PG_URL, default 127.0.0.1:5432) and Kafka (BENCH_KAFKA_BROKERS, else
 * the local test broker that scripts/kafka/kafka.sh starts or finds).
 * Env: BENCH_CLIENTS (1000), BENCH_EVENTS (50), BENCH_ALERTS (2000), BENCH_SITES (100),
 * BENCH_RESULTS (bench/RESULTS.md; "-" prints only).
 */
import { machineFacts, recordResults } from './support/results';
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { createApp } from '@/bootstrap';
import { loadConfig } from '@/config/app-config';
import { alertDedupKey, HealthAlertV1 } from '@/modules/alerts/alert-events';
import { createAlertServiceApp } from '@/modules/alerts/alert-service.app';
import { RealtimePublisher } from '@/modules/realtime/realtime.publisher';
import { createTestDatabase } from '../test/support/db';
import { ensureKafka } from '../test/support/kafka';

const env = (k: string, d: string) => process.env[k] ?? d;
const CLIENTS = Number(env('BENCH_CLIENTS', '1000'));
const EVENTS = Number(env('BENCH_EVENTS', '50'));
const ALERTS = Number(env('BENCH_ALERTS', '2000'));
const SITES = Number(env('BENCH_SITES', '100'));
const RESULTS = env('BENCH_RESULTS', 'bench/RESULTS.md');
const ROOT = join(__dirname, '..');
const now = () => performance.timeOrigin + performance.now();

const CLIENT_SCRIPT = `
const { io } = require('socket.io-client');
const { performance } = require('node:perf_hooks');
const N = +process.env.N, K = +process.env.K;
const lat = Array.from({ length: K }, () => []);
let received = 0;
const connect = () => new Promise((resolve, reject) => {
  const s = io(process.env.URL, { transports: ['websocket'], auth: { token: process.env.TOKEN },
    reconnection: false, forceNew: true, timeout: 20000 });
  s.on('raft-commit', (m) => {
    lat[m.index].push(performance.timeOrigin + performance.now() - m.timeStamp);
    if (++received === N * K) { process.stdout.write('RESULT ' + JSON.stringify(lat) + '\\n', () => process.exit(0)); }
  });
  s.once('connect', resolve);
  s.once('connect_error', reject);
});
(async () => {
  for (let i = 0; i < N; i += 50) await Promise.all(Array.from({ length: Math.min(50, N - i) }, connect));
  process.stdout.write('READY\\n');
})().catch((e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
`;

const SINK_SCRIPT = `
const { SMTPServer } = require('smtp-server');
const { performance } = require('node:perf_hooks');
let n = 0;
const server = new SMTPServer({ authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], logger: false,
  onData(stream, _s, cb) { stream.on('data', () => {}); stream.on('end', () => {
    n++; process.stdout.write('M ' + n + ' ' + (performance.timeOrigin + performance.now()) + '\\n'); cb(); }); } });
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.server.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

function child(
  script: string,
  extra: Record<string, string>,
): { proc: ChildProcess; lines: AsyncIterator<string> } {
  const proc = spawn(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { ...process.env, ...extra },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return { proc, lines };
}

async function nextLine(lines: AsyncIterator<string>, prefix: string): Promise<string> {
  for (;;) {
    const r = await lines.next();
    if (r.done) throw new Error(`child ended before "${prefix}"`);
    if (r.value.startsWith(prefix)) return r.value.slice(prefix.length).trim();
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

interface FanOut {
  clients: number;
  events: number;
  p50: number;
  p99: number;
  max: number;
  lastP50: number;
  lastP99: number;
}

async function fanOut(): Promise<FanOut> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-realtime-'));
  const app = await createApp(
    loadConfig({
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      JWT_SECRET: randomBytes(24).toString('hex'),
    }),
  );
  await app.listen(0, '127.0.0.1');
  try {
    const token = app
      .get(JwtService, { strict: false })
      .sign({ sub: randomUUID(), email: 'bench@x' });
    const clients = child(CLIENT_SCRIPT, {
      URL: await app.getUrl(),
      TOKEN: token,
      N: String(CLIENTS),
      K: String(EVENTS),
    });
    const t0 = Date.now();
    await nextLine(clients.lines, 'READY');
    const publisher = app.get(RealtimePublisher);
    process.stderr.write(
      `${publisher.connections().socketIo} Socket.IO clients connected in ${Date.now() - t0} ms\n`,
    );
    const result = nextLine(clients.lines, 'RESULT');
    for (let i = 0; i < EVENTS; i++) {
      publisher.broadcast('raft-commit', { index: i, term: 1, kind: 'bench', timeStamp: now() });
      await new Promise((r) => setTimeout(r, 100));
    }
    const lat = JSON.parse(await result) as number[][];
    const all = lat.flat();
    const last = lat.map((xs) => Math.max(...xs));
    return {
      clients: CLIENTS,
      events: EVENTS,
      p50: pct(all, 50),
      p99: pct(all, 99),
      max: Math.max(...all),
      lastP50: pct(last, 50),
      lastP99: pct(last, 99),
    };
  } finally {
    await app.close();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Throughput {
  alerts: number;
  perSecond: number;
  withStartup: number;
  startupMs: number;
}

async function throughput(brokers: string): Promise<Throughput> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-alerts-'));
  const runId = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const topics = {
    HEALTH_ALERTS_TOPIC: `${runId}.health-alerts`,
    HEALTH_LOGS_TOPIC: `${runId}.health-logs`,
    VALIDATOR_STATUS_TOPIC: `${runId}.validator-status`,
  };
  const kafka = new Kafka({
    clientId: runId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const sink = child(SINK_SCRIPT, {});
  try {
    const port = await nextLine(sink.lines, 'PORT');
    // Sites and owners, then every alert on the topic before the service starts.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const sites: { id: string; url: string }[] = [];
    for (let i = 0; i < SITES; i++) {
      const userId = randomUUID();
      const siteId = randomUUID();
      await pg.query(
        `INSERT INTO users (id, email, password_hash, updated_at) VALUES ($1, $2, 'x', now())`,
        [userId, `owner${i}@bench.test`],
      );
      await pg.query(
        `INSERT INTO websites (id, owner_id, name, url, interval_ms, timeout_ms, expected_status, updated_at)
         VALUES ($1, $2, $3, $4, 60000, 10000, '{}', now())`,
        [siteId, userId, `Site ${i}`, `https://site${i}.bench.test/`],
      );
      sites.push({ id: siteId, url: `https://site${i}.bench.test/` });
    }
    await pg.end();
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(topics).map((topic) => ({
        topic,
        numPartitions: 6,
        replicationFactor: 1,
      })),
    });
    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: ALERTS }, (_, i) => {
      const site = sites[i % SITES];
      const round = Math.floor(i / SITES) + 1;
      const kind = round % 2 === 1 ? ('DOWN' as const) : ('RECOVERED' as const);
      const alert: HealthAlertV1 = {
        v: 1,
        alertId: randomUUID(),
        dedupKey: alertDedupKey({ siteId: site.id, round, kind, region: null }),
        siteId: site.id,
        url: site.url,
        kind,
        region: null,
        round,
        decisionLogIndex: i + 1,
        tally: { up: 0, down: 3, total: 3 },
        at: new Date().toISOString(),
      };
      return { key: site.id, value: JSON.stringify(alert) };
    });
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({
        topic: topics.HEALTH_ALERTS_TOPIC,
        messages: messages.slice(i, i + 500),
      });
    }
    await producer.disconnect();

    const config = loadConfig({
      ...topics,
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: brokers,
      KAFKA_GROUP_ID: `${runId}-group`,
      KAFKA_TOPIC_PARTITIONS: '6',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: port,
      MAIL_FROM: 'Bench <alerts@bench.test>',
    });
    const started = now();
    const app = await createAlertServiceApp(config);
    let first = 0;
    let last = 0;
    for (let n = 0; n < ALERTS;) {
      const [count, at] = (await nextLine(sink.lines, 'M ')).split(' ').map(Number);
      n = count;
      if (n === 1) first = at;
      last = at;
    }
    await app.close();
    return {
      alerts: ALERTS,
      perSecond: (ALERTS - 1) / ((last - first) / 1000),
      withStartup: ALERTS / ((last - started) / 1000),
      startupMs: first - started,
    };
  } finally {
    sink.proc.kill('SIGTERM');
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(f: FanOut, t: Throughput, load: number[]): string {
  const ms = (x: number) => x.toFixed(1);
  return [
    '',
    `## bench:realtime — ${new Date().toISOString()}`,
    '',
    `${machineFacts()} Load average ${load.map((x) => x.toFixed(1)).join(' / ')} ` +
      `(1/5/15 min) at start: other work shared the CPUs. Fan-out: ${f.clients} Socket.IO clients (websocket ` +
      `transport) in one child process, ${f.events} broadcasts 100 ms apart, latency = receive minus ` +
      `emit on the shared wall clock. Throughput: ${t.alerts} alerts for ${SITES} sites pre-loaded on a ` +
      `6-partition topic, one standalone alert service (4 partitions in parallel, pooled SMTP), ` +
      `local PostgreSQL, local Kafka, smtp-server sink in a child process.`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| fan-out to ${f.clients} clients: per-client latency p50 | ${ms(f.p50)} ms |`,
    `| fan-out: per-client latency p99 | ${ms(f.p99)} ms |`,
    `| fan-out: per-client latency max | ${ms(f.max)} ms |`,
    `| fan-out: last client reached, p50 over events | ${ms(f.lastP50)} ms |`,
    `| fan-out: last client reached, p99 over events | ${ms(f.lastP99)} ms |`,
    `| alert throughput, topic → SMTP sink (steady) | ${t.perSecond.toFixed(0)} alerts/s |`,
    `| alert throughput including service start and group join (${(t.startupMs / 1000).toFixed(1)} s) | ${t.withStartup.toFixed(0)} alerts/s |`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const load = loadavg();
  const brokers = process.env.BENCH_KAFKA_BROKERS ?? (await ensureKafka());
  const f = await fanOut();
  process.stderr.write(`fan-out: ${JSON.stringify(f)}\n`);
  const t = await throughput(brokers);
  process.stderr.write(`throughput: ${JSON.stringify(t)}\n`);
  const text = report(f, t, load);
  recordResults(RESULTS, text);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
