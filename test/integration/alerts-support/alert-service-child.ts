/**
 * The standalone alert service in a child process, for crash tests. With
 * CRASH_AFTER_EMAIL_RECORDED=1 it kills itself with SIGKILL right after an e-mail delivery is
 * recorded SENT, before the handler returns, so before Kafka can commit the offset.
 * Prints "READY <port>" once consuming.
 */
import 'reflect-metadata';
import { loadConfig } from '@/config/app-config';
import { AlertDeliveryRepository } from '@/modules/alerts/alert-delivery.repository';
import { createAlertServiceApp } from '@/modules/alerts/alert-service.app';

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
  const config = loadConfig(process.env);
  const app = await createAlertServiceApp(config, {
    kafka: { sessionTimeoutMs: 6_000 },
    timings: { sweepEveryMs: 500, retryInitialMs: 200, retryMaxMs: 2_000 },
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
