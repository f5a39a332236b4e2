import 'reflect-metadata';
import { readConfigOrExit } from './config/read-config';

async function main(): Promise<void> {
  const config = readConfigOrExit();
  // Loaded only after the config is known good, so a bad value fails fast.
  const { Logger } = await import('@nestjs/common');
  const { createApp, installShutdown } = await import('./bootstrap');
  const app = await createApp(config);
  const log = new Logger('Main');
  process.on('unhandledRejection', (reason) => {
    log.error(`unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
  });
  installShutdown(app, config);
  await app.listen(config.port, config.host);
  log.log(
    `validator ${config.node.id} (${config.node.region}) listening on ${config.host}:${config.port}; ` +
      `db=${config.db.url ? 'postgres' : 'embedded'} events=${config.kafka.brokers.length ? 'kafka' : 'in-process'}`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
