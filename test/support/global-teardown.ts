// Jest globalTeardown: the Kafka broker is left running so the next run starts in seconds; it is
// stopped only when KAFKA_STOP_AFTER_TESTS=1 and this run's globalSetup launched it.
import { stopKafka } from './kafka';

export default async function globalTeardown(): Promise<void> {
  if (
    process.env.KAFKA_STOP_AFTER_TESTS === '1' &&
    process.env.TEST_KAFKA_STARTED_BY_SETUP === '1'
  ) {
    await stopKafka();
  }
}
