// Applies prisma/migrations/*/migration.sql in name order, each in its own transaction, and records
// them in Prisma's own `_prisma_migrations` table, so a later `prisma migrate deploy` sees them as applied.
// Refuses to touch a database whose history diverges (edited, unknown or failed migration).
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';

/** Resolves to <repo>/prisma/migrations from both src/ (ts-node, jest) and dist/ (nest build). */
export const MIGRATIONS_DIR = path.resolve(__dirname, '../../../prisma/migrations');

// The key Prisma's schema engine locks on: our migrator and `prisma migrate deploy` exclude each other.
const PRISMA_MIGRATE_LOCK_KEY = 72707369;
const LOCK_POLL_MS = 200;

export interface Migration {
  name: string;
  /** sha256 hex of the migration.sql bytes, as Prisma computes it */
  checksum: string;
  sql: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

export interface MigrateOptions {
  migrationsDir?: string;
  /** how long to wait for another node that is migrating the same database */
  lockTimeoutMs?: number;
  onApplied?: (name: string, durationMs: number) => void;
}

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  started_at: Date;
}

/** Reads every migration directory under `dir`, sorted by name like Prisma does. */
export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  await assertPostgresLock(dir);
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(names.map((name) => readMigration(dir, name)));
}

async function readMigration(dir: string, name: string): Promise<Migration> {
  const file = path.join(dir, name, 'migration.sql');
  const bytes = await readFile(file).catch((e: unknown) => {
    throw new MigrationError(`migration ${name} has no readable migration.sql (${file})`, {
      cause: e,
    });
  });
  return { name, checksum: sha256(bytes), sql: bytes.toString('utf8') };
}

async function assertPostgresLock(dir: string): Promise<void> {
  const lock = await readFile(path.join(dir, 'migration_lock.toml'), 'utf8').catch(() => null);
  if (lock === null) return;
  const provider = /^\s*provider\s*=\s*"([^"]+)"/m.exec(lock)?.[1];
  if (provider !== 'postgresql') {
    throw new MigrationError(
      `${dir}/migration_lock.toml says provider "${provider}", expected "postgresql"`,
    );
  }
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Brings the database at `connectionString` up to date. Uses one connection,
 * closed before returning, so it may run before the app's pool opens (the
 * embedded server serves a single connection at a time).
 */
export async function migrate(
  connectionString: string,
  options: MigrateOptions = {},
): Promise<MigrationReport> {
  const migrations = await readMigrations(options.migrationsDir);
  const client = new Client({ connectionString, application_name: 'uptime-migrator' });
  await client.connect();
  try {
    await acquireLock(client, options.lockTimeoutMs ?? 60_000);
    try {
      return await migrateLocked(client, migrations, options);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

async function migrateLocked(
  client: Client,
  migrations: Migration[],
  options: MigrateOptions,
): Promise<MigrationReport> {
  await ensureMigrationsTable(client);
  const applied = await loadApplied(client);
  assertHistoryMatches(migrations, applied);
  const pending = migrations.filter((m) => !applied.has(m.name));
  for (const m of pending) {
    const started = Date.now();
    await applyOne(client, m);
    options.onApplied?.(m.name, Date.now() - started);
  }
  return {
    applied: pending.map((m) => m.name),
    alreadyApplied: migrations.filter((m) => applied.has(m.name)).map((m) => m.name),
  };
}

// Polling try-lock rather than pg_advisory_lock: a stuck peer yields a clear
// error after the timeout instead of a boot that hangs forever.
async function acquireLock(client: Client, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
      PRISMA_MIGRATE_LOCK_KEY,
    ]);
    if (r.rows[0].ok) return;
    if (Date.now() >= deadline) {
      throw new MigrationError(
        `another process has held the migration lock (pg_advisory_lock ${PRISMA_MIGRATE_LOCK_KEY}) ` +
          `for over ${timeoutMs} ms; is a migration stuck?`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

// Same definition the Prisma schema engine creates for PostgreSQL.
async function ensureMigrationsTable(client: Client): Promise<void> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum"            VARCHAR(64) NOT NULL,
      "finished_at"         TIMESTAMPTZ,
      "migration_name"      VARCHAR(255) NOT NULL,
      "logs"                TEXT,
      "rolled_back_at"      TIMESTAMPTZ,
      "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
}

/** Rows marked rolled back (`prisma migrate resolve --rolled-back`) do not count, as in Prisma. */
async function loadApplied(client: Client): Promise<Map<string, AppliedRow>> {
  const r = await client.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at, started_at
       FROM "_prisma_migrations"
      WHERE rolled_back_at IS NULL
      ORDER BY started_at`,
  );
  return new Map(r.rows.map((row) => [row.migration_name, row]));
}

function assertHistoryMatches(onDisk: Migration[], applied: Map<string, AppliedRow>): void {
  const byName = new Map(onDisk.map((m) => [m.name, m]));
  for (const row of applied.values()) {
    const disk = byName.get(row.migration_name);
    if (row.finished_at === null) {
      throw new MigrationError(
        `migration ${row.migration_name} started at ${row.started_at.toISOString()} and never finished; ` +
          `repair the database, then run \`prisma migrate resolve --rolled-back ${row.migration_name}\``,
      );
    }
    if (!disk) {
      throw new MigrationError(
        `the database has migration ${row.migration_name} applied, but prisma/migrations does not ` +
          `contain it: this code is older than the database`,
      );
    }
    if (disk.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${row.migration_name} was modified after it was applied ` +
          `(database checksum ${row.checksum}, file ${disk.checksum}); add a new migration instead`,
      );
    }
  }
}

async function applyOne(client: Client, m: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    // Simple query protocol: the whole file runs as one multi-statement batch.
    await client.query(m.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, now(), 1)`,
      [randomUUID(), m.checksum, m.name],
    );
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new MigrationError(`migration ${m.name} failed and was rolled back: ${errorText(e)}`, {
      cause: e,
    });
  }
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const pg = e as Error & { code?: string; position?: string };
  const where = pg.position ? ` at character ${pg.position}` : '';
  return pg.code ? `${pg.message} (SQLSTATE ${pg.code}${where})` : pg.message;
}
