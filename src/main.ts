import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';

function readConfig(): AppConfig {
  try {
    return loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const p of e.problems) process.stderr.write(`config error: ${p}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
}

async function main(): Promise<void> {
  // A .env in the working directory fills variables the environment leaves unset.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = readConfig();
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
