/**
 * Embedded mode (no Kafka): feeds the same AlertConsumer from the in-process event bus, as one
 * member of the alert consumer group. A handler that throws gets the event again.
 */
import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { EventBus, Subscription } from '@/infra/events/event-bus.port';
import { AlertConsumer } from './alert.consumer';

@Injectable()
export class AlertBusSubscription implements OnApplicationBootstrap, OnModuleDestroy {
  private subscription?: Subscription;

  constructor(
    private readonly bus: EventBus,
    private readonly consumer: AlertConsumer,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      'healthAlerts',
      { group: this.config.kafka.groupId, fromBeginning: true },
      (e) => this.consumer.handle(e.value, { origin: `${e.topic}[${e.partition}]@${e.offset}` }),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.stop();
  }
}
