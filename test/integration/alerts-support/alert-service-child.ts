/**
 * The standalone alert service in a child process, for crash tests. It kills itself with SIGKILL,
 * always before the handler returns (so before Kafka can commit the offset):
 * - CRASH_AFTER_EMAIL_RECORDED=1: right after an e-mail delivery is recorded SENT;
 * - CRASH_AFTER_DELIVERIES_RECORDED=1: once every channel of an alert (e-mail and each
 *   notification channel) has had its attempt recorded;
 * - CRASH_BEFORE_NOTIFY_SEND=1: after the alert and its delivery rows are recorded, before any
 *   notification is sent.
 * Prints "READY <port>" once consuming.
 */
import 'reflect-metadata';
import { loadConfig } from '@/config/app-config';
import { AlertDeliveryRepository } from '@/modules/alerts/alert-delivery.repository';
import { createAlertServiceApp } from '@/modules/alerts/alert-service.app';
import { AlertConsumer } from '@/modules/alerts/alert.consumer';
import { NotifyFanout } from '@/modules/notifications/delivery/notify-fanout';

function crash(line: string): never {
  process.stdout.write(`${line}\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

async function main(): Promise<void> {
  if (process.env.CRASH_AFTER_EMAIL_RECORDED === '1') {
    const markSent = AlertDeliveryRepository.prototype.markSent;
    AlertDeliveryRepository.prototype.markSent = async function (
      this: AlertDeliveryRepository,
      ...args
    ) {
      const recorded = await markSent.apply(this, args);
      if (args[0].channel === 'EMAIL') {
        process.stdout.write(`CRASHING after recording ${args[0].alertId}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
      return recorded;
    };
  }
  if (process.env.CRASH_AFTER_DELIVERIES_RECORDED === '1') {
    const proto = AlertConsumer.prototype as unknown as Record<
      string,
      (...a: unknown[]) => Promise<void>
    >;
    // The consumer no longer waits for notification attempts; for this crash point it must, so
    // that "every channel has had its attempt recorded" holds when the process dies.
    const dispatch = NotifyFanout.prototype.dispatch;
    NotifyFanout.prototype.dispatch = function (this: NotifyFanout, pending) {
      return dispatch.call(this, pending, Infinity);
    };
    const deliverAll = proto.deliverAll;
    proto.deliverAll = async function (this: AlertConsumer, ...args: unknown[]) {
      await deliverAll.apply(this, args);
      const p = args[0] as { stored: { id: string } };
      crash(`CRASHING after recording every delivery of ${p.stored.id}`);
    };
  }
  if (process.env.CRASH_BEFORE_NOTIFY_SEND === '1') {
    NotifyFanout.prototype.dispatch = async function (pending) {
      if (pending.length > 0) crash(`CRASHING before sending ${pending.length} notifications`);
    };
  }
  const config = loadConfig(process.env);
  const app = await createAlertServiceApp(config, {
    kafka: { sessionTimeoutMs: 6_000 },
    timings: {
      sweepEveryMs: 500,
      retryInitialMs: 200,
      retryMaxMs: 2_000,
      notifySweepEveryMs: 300,
      notifyJobsEveryMs: 1_000,
    },
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  process.stdout.write(`READY ${port}\n`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`child failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
