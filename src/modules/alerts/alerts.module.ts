/**
 * The alert service: consumes health-alerts (Kafka consumer group through the microservices
 * transport, or the in-process bus in embedded mode), e-mails the site owner and messages the
 * owner's WebSocket room, and notifies the channels the owner configured (webhook, Slack, Discord,
 * Telegram, PagerDuty, Mattermost), once per alert and channel. Inside a validator (role "node") it also
 * offers AlertPublisher and publishes the validator-status heartbeat.
 */
import { DynamicModule, Module, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { AppConfig } from '@/config/app-config';
import { MailModule } from '@/infra/mail/mail.module';
import { NotifyDeliverer } from '@/modules/notifications/delivery/notify-deliverer';
import { NotifyDeliveryRepository } from '@/modules/notifications/delivery/notify-delivery.repository';
import { NotifyFanout } from '@/modules/notifications/delivery/notify-fanout';
import { NotifyJobs } from '@/modules/notifications/delivery/notify-jobs';
import { NotifyLanes } from '@/modules/notifications/delivery/notify-lanes';
import { NotifySweeper } from '@/modules/notifications/delivery/notify-sweeper';
import { ReminderJob } from '@/modules/notifications/delivery/reminder.job';
import { AlertHoldRepository } from '@/modules/notifications/maintenance/alert-hold.repository';
import {
  MaintenanceReleaser,
  ReleasedAlertSink,
} from '@/modules/notifications/maintenance/maintenance-releaser';
import { MaintenanceRepository } from '@/modules/notifications/maintenance/maintenance.repository';
import { NotifyTransportModule } from '@/modules/notifications/notify-transport.module';
import { RealtimeModule } from '@/modules/realtime/realtime.module';
import { AlertBusSubscription } from './alert-bus.subscription';
import { AlertDeliverer } from './alert-deliverer';
import { AlertDeliveryRepository } from './alert-delivery.repository';
import { AlertMetrics } from './alert-metrics';
import { AlertRoomChannel, LocalRoomChannel, NotifyRoomChannel } from './alert-room.channel';
import { AlertConsumer } from './alert.consumer';
import { AlertPublisher } from './alert.publisher';
import { AlertRepository } from './alert.repository';
import { alertsKafkaController } from './alerts-kafka.transport';
import { AlertsTimings } from './alerts.timings';
import { DeliverySweeper } from './delivery-sweeper';
import {
  UnknownValidatorProgress,
  ValidatorHeartbeat,
  ValidatorProgress,
} from './validator-heartbeat';

export interface AlertsModuleOptions {
  /** "node": inside a validator; "service": the standalone alert service (alerts-main) */
  role: 'node' | 'service';
  timings?: Partial<AlertsTimings>;
  /** what the heartbeat reports as check progress (role "node"); default: unknown (nulls) */
  validatorProgress?: { imports?: ModuleMetadata['imports']; useExisting: Type<ValidatorProgress> };
}

@Module({})
export class AlertsModule {
  static forRoot(
    config: AppConfig,
    options: AlertsModuleOptions = { role: 'node' },
  ): DynamicModule {
    const kafka = config.kafka.brokers.length > 0;
    const sharedDb = config.db.url !== undefined;
    const node = options.role === 'node';
    if (!node && !sharedDb) {
      // Its WebSocket messages reach the nodes through PostgreSQL NOTIFY (see alert-room.channel).
      throw new Error(
        'the standalone alert service needs DATABASE_URL (a PostgreSQL shared with the nodes)',
      );
    }
    const providers: Provider[] = [
      AlertRepository,
      AlertDeliveryRepository,
      AlertDeliverer,
      AlertConsumer,
      DeliverySweeper,
      AlertPublisher,
      { provide: AlertMetrics, useValue: new AlertMetrics() },
      { provide: AlertsTimings, useValue: AlertsTimings.with(options.timings) },
      // Notification channels (webhook, Slack, …): per-channel lanes, sweeper, reminders, maintenance.
      NotifyDeliveryRepository,
      NotifyDeliverer,
      NotifyLanes,
      NotifySweeper,
      NotifyFanout,
      ReminderJob,
      AlertHoldRepository,
      MaintenanceRepository,
      MaintenanceReleaser,
      { provide: ReleasedAlertSink, useExisting: AlertConsumer },
      NotifyJobs,
      // Shared PostgreSQL: NOTIFY reaches every node. Embedded: this node is the only one.
      { provide: AlertRoomChannel, useClass: sharedDb ? NotifyRoomChannel : LocalRoomChannel },
    ];
    if (!kafka) providers.push(AlertBusSubscription);
    const progress = options.validatorProgress;
    if (node) {
      providers.push(
        ValidatorHeartbeat,
        progress
          ? { provide: ValidatorProgress, useExisting: progress.useExisting }
          : { provide: ValidatorProgress, useClass: UnknownValidatorProgress },
      );
    }
    return {
      module: AlertsModule,
      imports: [
        MailModule.forRoot(config),
        ScheduleModule.forRoot(),
        NotifyTransportModule,
        ...(node && !sharedDb ? [RealtimeModule] : []),
        ...(node && progress?.imports ? progress.imports : []),
      ],
      controllers: kafka ? [alertsKafkaController(config.kafka.topics.healthAlerts)] : [],
      providers,
      exports: [
        AlertPublisher,
        AlertMetrics,
        DeliverySweeper,
        NotifySweeper,
        ReminderJob,
        MaintenanceReleaser,
      ],
    };
  }
}
