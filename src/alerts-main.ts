// Entry of the standalone alert service (npm run start:alerts, compose service `alerts`): the
// health-alerts consumer group with e-mail and WebSocket delivery, and health endpoints on PORT.
import 'reflect-metadata';
import { exitWithConfigProblems, readConfigOrExit } from './config/read-config';

async function main(): Promise<void> {
  const config = readConfigOrExit();
  const { alertServiceConfigProblems, createAlertServiceApp } =
    await import('./modules/alerts/alert-service.app');
  const problems = alertServiceConfigProblems(config);
  if (problems.length > 0) exitWithConfigProblems(problems);
  const { Logger } = await import('@nestjs/common');
  const { installShutdown } = await import('./bootstrap');
  const app = await createAlertServiceApp(config);
  const log = new Logger('AlertsMain');
  process.on('unhandledRejection', (reason) => {
    log.error(`unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
  });
  installShutdown(app, config);
  await app.listen(config.port, config.host);
  log.log(
    `alert service ${config.node.id} consuming ${config.kafka.topics.healthAlerts} as group ` +
      `${config.kafka.groupId}; health on ${config.host}:${config.port}; ` +
      `mail=${config.mail.host ? 'smtp' : 'log only'}`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
