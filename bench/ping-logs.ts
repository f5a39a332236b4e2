/**
 * bench:ping-logs: health logs over the real Kafka broker into PostgreSQL by one
 * PingLogWriter (one consumer). BENCH_LOGS health logs for BENCH_SITES sites are
 * published first to fresh 3-partition topics; then the clock runs from the
 * writer's subscribe until every row is in ping_logs (and both rollups). Compared
 * in the same run against per-message consumption (the previous path: one row per
 * transaction) on a smaller backlog, as a ratio. Appends to bench/RESULTS.md.
 * Env: BENCH_LOGS (50000), BENCH_LEGACY_LOGS (2000), BENCH_SITES (1000), BENCH_RESULTS.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@/config/app-config';
import { PrismaService } from '@/infra/database/prisma.service';
import { EventBus } from '@/infra/events/event-bus.port';
import { KafkaEventBus } from '@/infra/events/kafka-event-bus';
import type { HealthLogV1 } from '@/modules/ping/health-log.sink';
import { PingLogRepository } from '@/modules/ping-logs/ping-log.repository';
import { PingLogWriter } from '@/modules/ping-logs/ping-log.writer';
import { createTestDatabase } from '../test/support/db';
import { ensureKafka } from '../test/support/kafka';
import { machineFacts, recordResults } from './support/results';

const LOGS = Number(process.env.BENCH_LOGS ?? 50_000);
const LEGACY_LOGS = Number(process.env.BENCH_LEGACY_LOGS ?? 2_000);
const SITES = Number(process.env.BENCH_SITES ?? 1_000);
const RESULTS = process.env.BENCH_RESULTS ?? 'bench/RESULTS.md';
const TIMEOUT_MS = 600_000;
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };
const config = { db: { pingLogRetentionDays: 30 } } as AppConfig;

function healthLogs(sites: string[], count: number, round0: number): HealthLogV1[] {
  const at = Date.now() - 60_000;
  return Array.from({ length: count }, (_, i) => ({
    v: 1,
    siteId: sites[i % sites.length],
    round: round0 + Math.floor(i / sites.length),
    validatorId: `v${1 + (i % 3)}`,
    region: `region-${1 + (i % 3)}`,
    up: i % 11 !== 0,
    latencyMs: 20 + (i % 400),
    httpStatus: i % 11 !== 0 ? 200 : null,
    failure: i % 11 !== 0 ? null : 'TIMEOUT',
    error: i % 11 !== 0 ? null : 'no answer within 10000 ms',
    phases: { dns: 1, connect: 2, tls: 5, firstByte: 15, total: 20 + (i % 400) },
    checkedAt: new Date(at + (i % 1000)).toISOString(),
  }));
}

/** The previous consumption: the bus's per-message subscription, one event per handler call. */
function perMessage(bus: EventBus): EventBus {
  return new (class extends EventBus {
    publish = bus.publish.bind(bus);
    subscribe = bus.subscribe.bind(bus);
    health = bus.health.bind(bus);
    close = bus.close.bind(bus);
  })();
}

async function main(): Promise<void> {
  const brokers = await ensureKafka();
  const db = await createTestDatabase();
  const prisma = new PrismaService({ connectionString: db.url, poolSize: 4, embedded: false });
  await prisma.onModuleInit();
  quietLogs();
  const buses: KafkaEventBus[] = [];
  try {
    const owner = await prisma.user.create({
      data: { email: 'bench-logs@example.com', passwordHash: 'x' },
    });
    const sites = Array.from({ length: SITES }, () => randomUUID());
    await prisma.website.createMany({
      data: sites.map((id, i) => ({
        id,
        ownerId: owner.id,
        name: `s${i}`,
        url: `https://example.com/${i}`,
        intervalMs: 20_000,
        timeoutMs: 5_000,
      })),
    });
    const repo = new PingLogRepository(prisma);

    const run = async (label: string, count: number, round0: number, legacy: boolean) => {
      const prefix = `bench-logs-${process.pid}-${round0}`;
      const bus = new KafkaEventBus(
        {
          brokers: brokers.split(','),
          clientId: prefix,
          topics: {
            validatorStatus: `${prefix}.validator-status`,
            healthLogs: `${prefix}.health-logs`,
            healthAlerts: `${prefix}.health-alerts`,
          },
          partitions: 3,
          replicationFactor: 1,
        },
        quiet,
      );
      buses.push(bus);
      const logs = healthLogs(sites, count, round0);
      for (let i = 0; i < logs.length; i += 2_000)
        await bus.publish(
          'healthLogs',
          logs.slice(i, i + 2_000).map((l) => ({ key: l.siteId, value: l })),
        );
      const before = await prisma.pingLog.count();
      const writer = new PingLogWriter(legacy ? perMessage(bus) : bus, repo, config);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await writer.onModuleInit();
      let rows = 0;
      while ((rows = (await prisma.pingLog.count()) - before) < count) {
        if (performance.now() - t0 > TIMEOUT_MS)
          throw new Error(`${label}: ${rows} of ${count} rows after ${TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      await writer.onModuleDestroy();
      const stats = writer.stats();
      return {
        label,
        rows: count,
        perSec: count / (ms / 1000),
        transactions: stats.batches,
        rowsPerTx: stats.inserted / Math.max(1, stats.batches),
        cpuUsPerRow: (cpu.user + cpu.system) / count,
        ms,
      };
    };

    const batched = await run('eachBatch: one transaction per fetched batch', LOGS, 1, false);
    const legacy = await run(
      'eachMessage: one row per transaction (previous)',
      LEGACY_LOGS,
      1_000_000,
      true,
    );
    const rollups = await prisma.pingRollupHourly.aggregate({
      _sum: { checks: true },
      where: { region: '*' },
    });
    if (rollups._sum.checks !== LOGS + LEGACY_LOGS)
      throw new Error(
        `rollups count ${rollups._sum.checks} checks, expected ${LOGS + LEGACY_LOGS}`,
      );

    const rows = [batched, legacy];
    recordResults(
      RESULTS,
      [
        `## bench:ping-logs — ${new Date().toISOString()}`,
        '',
        machineFacts(),
        `Real Kafka broker (${brokers}), 3-partition topic, one PingLogWriter (one consumer), one PostgreSQL;`,
        `${SITES} sites; the backlog is published first, then the clock runs from subscribe until every row is in`,
        `ping_logs (each write also folds into the hourly and daily rollups; rollups checked: ${rollups._sum.checks} checks).`,
        'Target: >= 5,000 rows/s per consumer. Writer CPU is this process only (PostgreSQL not included).',
        '',
        '| path | rows | rows/s | transactions | rows/transaction | writer CPU µs/row | ratio |',
        '|---|---:|---:|---:|---:|---:|---:|',
        ...rows.map(
          (r) =>
            `| ${r.label} | ${r.rows} | ${r.perSec.toFixed(0)} | ${r.transactions} | ${r.rowsPerTx.toFixed(1)} | ${r.cpuUsPerRow.toFixed(0)} | ${(r.perSec / legacy.perSec).toFixed(1)} |`,
        ),
        '',
      ].join('\n'),
    );
  } finally {
    for (const bus of buses) await bus.close().catch(() => undefined);
    await prisma.$disconnect();
    await db.drop();
  }
}

/** The writer warns once per 10 s on drops; nothing is expected to drop here. */
function quietLogs(): void {
  Logger.overrideLogger(['error']);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
