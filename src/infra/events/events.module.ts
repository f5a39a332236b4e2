/**
 * Provides the one EventBus: Kafka when KAFKA_BROKERS is set, the in-process bus otherwise.
 * Topics exist and the producer is connected before the app serves; close() runs at shutdown.
 */
import { Global, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { EventBus } from './event-bus.port';
import { InProcessEventBus } from './in-process-event-bus';
import { KafkaEventBus } from './kafka-event-bus';

function createEventBus(config: AppConfig): EventBus {
  const { kafka } = config;
  if (kafka.brokers.length > 0) {
    return new KafkaEventBus(
      {
        brokers: kafka.brokers,
        clientId: kafka.clientId,
        topics: kafka.topics,
        partitions: kafka.partitions,
        replicationFactor: kafka.replicationFactor,
      },
      new Logger('KafkaEventBus'),
    );
  }
  return new InProcessEventBus({ partitions: kafka.partitions }, new Logger('InProcessEventBus'));
}

/** Needs `AppConfig` from a global module (ConfigModule.forRoot). */
@Global()
@Module({
  providers: [{ provide: EventBus, useFactory: createEventBus, inject: [AppConfig] }],
  exports: [EventBus],
})
export class EventsModule implements OnModuleInit, OnApplicationShutdown {
  constructor(private readonly bus: EventBus) {}

  // Failing here fails the boot with the broker address in the message, rather than the first
  // alert failing minutes later.
  async onModuleInit(): Promise<void> {
    if (this.bus instanceof KafkaEventBus) await this.bus.start();
  }

  // Global modules shut down last, so feature modules have stopped their subscriptions and
  // published their last events by now; close() stops whatever is left.
  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}
