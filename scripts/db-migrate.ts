// `npm run db:migrate`: brings DATABASE_URL (or, when unset, the embedded database under DATA_DIR)
// up to date with prisma/migrations, prints what it applied, and exits non-zero with the reason if it cannot.
import { ConfigError, loadConfig } from '@/config/app-config';
import { startEmbeddedPostgres } from '@/infra/database/embedded-postgres';
import { migrate, MIGRATIONS_DIR } from '@/infra/database/migrator';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (config.db.url) return migrateAndPrint(config.db.url, redact(config.db.url));
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
  try {
    await migrateAndPrint(embedded.url, `the embedded database in ${embedded.pgdataDir}`);
  } finally {
    await embedded.stop();
  }
}

async function migrateAndPrint(url: string, target: string): Promise<void> {
  console.log(`migrating ${target} from ${MIGRATIONS_DIR}`);
  const report = await migrate(url, {
    onApplied: (name, ms) => console.log(`  applied ${name} (${ms} ms)`),
  });
  console.log(
    report.applied.length > 0
      ? `done: applied ${report.applied.length}, ${report.alreadyApplied.length} already applied before`
      : `nothing to do: all ${report.alreadyApplied.length} migrations already applied`,
  );
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError) {
    for (const p of e.problems) console.error(`config error: ${p}`);
  } else {
    console.error(`db:migrate failed: ${e instanceof Error ? e.message : String(e)}`);
    const cause = e instanceof Error ? e.cause : undefined;
    if (cause instanceof Error) console.error(`  caused by: ${cause.message}`);
  }
  process.exit(1);
});
