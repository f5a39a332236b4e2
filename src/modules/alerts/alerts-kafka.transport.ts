/**
 * The alert service's Kafka consumer group through the NestJS microservices transport: the
 * options for app.connectMicroservice() and the controller whose @EventPattern is the configured
 * health-alerts topic. The offset is committed only after the handler resolved; a handler that
 * cannot finish throws KafkaRetriableException and the message comes back.
 */
import { Controller, Type } from '@nestjs/common';
import {
  Ctx,
  EventPattern,
  KafkaContext,
  KafkaOptions,
  KafkaRetriableException,
  Payload,
  Transport,
} from '@nestjs/microservices';
import { logLevel, Partitioners } from 'kafkajs';
import type { AppConfig } from '@/config/app-config';
import { AlertConsumer } from './alert.consumer';

export interface AlertsKafkaTuning {
  /** a dead member's partitions move after this; the broker's minimum is 6 s. Default 30 s. */
  sessionTimeoutMs?: number;
}

export function alertsKafkaMicroservice(
  config: AppConfig,
  tuning: AlertsKafkaTuning = {},
): KafkaOptions {
  const sessionTimeout = tuning.sessionTimeoutMs ?? 30_000;
  const retry = { retries: 8, initialRetryTime: 300, maxRetryTime: 5_000 };
  return {
    transport: Transport.KAFKA,
    options: {
      // Exactly KAFKA_GROUP_ID and a recognisable client id: Nest appends "-server" otherwise.
      postfixId: '',
      client: {
        clientId: `${config.kafka.clientId}-alerts-${config.node.id}`,
        brokers: config.kafka.brokers,
        connectionTimeout: 3_000,
        requestTimeout: 30_000,
        retry,
        logLevel: logLevel.WARN,
      },
      consumer: {
        groupId: config.kafka.groupId,
        sessionTimeout,
        heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 1_000,
        retry,
      },
      // A new group starts at the oldest retained alert: one published before the group first
      // joined is still delivered (delivery records make re-reading harmless).
      subscribe: { fromBeginning: true },
      // Partitions in parallel, each in order.
      run: {
        autoCommit: true,
        partitionsConsumedConcurrently: Math.min(config.kafka.partitions, 4),
      },
      // Nest's server always opens a producer (for replies); this one stays idle.
      producer: {
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      },
    },
  };
}

/** A controller class bound to the topic name, since the name is configuration. */
export function alertsKafkaController(topic: string): Type<unknown> {
  @Controller()
  class AlertsKafkaController {
    constructor(private readonly consumer: AlertConsumer) {}

    @EventPattern(topic)
    async onHealthAlert(@Payload() value: unknown, @Ctx() ctx: KafkaContext): Promise<void> {
      const heartbeat = ctx.getHeartbeat();
      // Keeps the membership alive during a slow SMTP attempt, not only between messages.
      const ticker = setInterval(() => void heartbeat().catch(() => undefined), 3_000);
      try {
        await this.consumer.handle(value, {
          origin: `${ctx.getTopic()}[${ctx.getPartition()}]@${ctx.getMessage().offset}`,
          heartbeat,
        });
      } catch (err) {
        throw new KafkaRetriableException(err instanceof Error ? err.message : String(err));
      } finally {
        clearInterval(ticker);
      }
    }
  }
  return AlertsKafkaController;
}
