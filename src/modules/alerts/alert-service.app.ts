/**
 * The standalone alert service (npm run start:alerts): the alert consumer group, the delivery
 * sweeper, mail and the database, plus /health/live, /health/ready and /metrics; no scheduler, no Raft, no
 * public API. Any number of instances share the topic's partitions and the delivery records.
 */
import { Controller, DynamicModule, Get, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@/config/app-config';
import { ConfigModule } from '@/config/config.module';
import { DatabaseModule } from '@/infra/database/database.module';
import { PrismaService } from '@/infra/database/prisma.service';
import { EventBus } from '@/infra/events/event-bus.port';
import { EventsModule } from '@/infra/events/events.module';
import { LoggingModule } from '@/infra/logging/logging.module';
import { MetricsModule } from '@/modules/metrics/metrics.module';
import { AlertMetrics } from './alert-metrics';
import { alertsKafkaMicroservice, AlertsKafkaTuning } from './alerts-kafka.transport';
import { AlertsModule } from './alerts.module';
import type { AlertsTimings } from './alerts.timings';

@Controller('health')
class AlertServiceHealthController {
  constructor(
    private readonly prisma: PrismaService,
    private readonly events: EventBus,
    private readonly metrics: AlertMetrics,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(): Promise<{ status: 'ok'; counts: Record<string, number> }> {
    await this.prisma.ping();
    const bus = await this.events.health();
    if (!bus.up) throw new Error(`event bus down: ${bus.detail ?? ''}`);
    return { status: 'ok', counts: this.metrics.snapshot() };
  }
}

@Module({})
class AlertServiceModule {
  static forRoot(config: AppConfig, timings?: Partial<AlertsTimings>): DynamicModule {
    // Kept as a value: MetricsModule imports this very module object (one AlertMetrics).
    const alerts = AlertsModule.forRoot(config, { role: 'service', timings });
    return {
      module: AlertServiceModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        DatabaseModule,
        EventsModule,
        alerts,
        // GET /metrics: process, alert consumer and delivery, HTTP (same access rules as a node's)
        MetricsModule.forRoot({ imports: [alerts] }),
      ],
      controllers: [AlertServiceHealthController],
    };
  }
}

export interface AlertServiceOptions {
  timings?: Partial<AlertsTimings>;
  kafka?: AlertsKafkaTuning;
}

/** What an alert service cannot run without; empty when the config is usable. */
export function alertServiceConfigProblems(config: AppConfig): string[] {
  const problems: string[] = [];
  if (config.kafka.brokers.length === 0) {
    problems.push(
      'KAFKA_BROKERS: required by the standalone alert service (it is a Kafka consumer group)',
    );
  }
  if (!config.db.url) {
    problems.push(
      'DATABASE_URL: required by the standalone alert service (the PostgreSQL the nodes use)',
    );
  }
  return problems;
}

/** Builds, initialises and starts the consumer; the caller listens on HTTP for health. */
export async function createAlertServiceApp(
  config: AppConfig,
  options: AlertServiceOptions = {},
): Promise<INestApplication> {
  const problems = alertServiceConfigProblems(config);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const app = await NestFactory.create(AlertServiceModule.forRoot(config, options.timings), {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.connectMicroservice(alertsKafkaMicroservice(config, options.kafka));
  await app.init();
  await app.startAllMicroservices();
  return app;
}
