// Global database wiring: PostgreSQL at DATABASE_URL, or the embedded PGlite under DATA_DIR when unset;
// migrated before anything queries it (MIGRATE_ON_BOOT); Prisma closes first at shutdown, the server last.
import { Global, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { migrate } from './migrator';
import { PrismaService } from './prisma.service';

/** Where the database is, once started and migrated. Private to this module. */
class DatabaseEndpoint {
  constructor(
    readonly url: string,
    readonly embedded: EmbeddedPostgres | undefined,
  ) {}
}

async function openDatabase(config: AppConfig): Promise<DatabaseEndpoint> {
  const log = new Logger('Database');
  const endpoint = config.db.url
    ? new DatabaseEndpoint(config.db.url, undefined)
    : await openEmbedded(config.dataDir, log);
  try {
    if (config.db.migrateOnBoot) await migrateAndLog(endpoint.url, log);
  } catch (e) {
    await endpoint.embedded?.stop();
    throw e;
  }
  return endpoint;
}

async function openEmbedded(dataDir: string, log: Logger): Promise<DatabaseEndpoint> {
  const embedded = await startEmbeddedPostgres({
    dataDir,
    // Readiness turns red on its own (ping fails); this says why.
    onCrash: (e) => log.error(`embedded PostgreSQL stopped unexpectedly: ${e.message}`),
  });
  log.log(`embedded PostgreSQL (PGlite) in ${embedded.pgdataDir}`);
  return new DatabaseEndpoint(embedded.url, embedded);
}

async function migrateAndLog(url: string, log: Logger): Promise<void> {
  const report = await migrate(url, {
    onApplied: (name, ms) => log.log(`applied migration ${name} in ${ms} ms`),
  });
  if (report.applied.length === 0) {
    log.log(`schema up to date (${report.alreadyApplied.length} migrations)`);
  }
}

function createPrisma(endpoint: DatabaseEndpoint, config: AppConfig): PrismaService {
  return new PrismaService({
    connectionString: endpoint.url,
    poolSize: config.db.poolSize,
    embedded: endpoint.embedded !== undefined,
  });
}

/**
 * Needs `AppConfig` from a global module (ConfigModule.forRoot). Exports only
 * PrismaService: with the embedded server, a second connection would be refused.
 */
@Global()
@Module({
  providers: [
    { provide: DatabaseEndpoint, useFactory: openDatabase, inject: [AppConfig] },
    { provide: PrismaService, useFactory: createPrisma, inject: [DatabaseEndpoint, AppConfig] },
  ],
  exports: [PrismaService],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(private readonly endpoint: DatabaseEndpoint) {}

  // Nest calls a module's own hook after its providers' hooks, and global
  // modules last: PrismaService has disconnected by the time this runs.
  async onApplicationShutdown(): Promise<void> {
    await this.endpoint.embedded?.stop();
  }
}
