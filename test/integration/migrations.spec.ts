// The migrator against a real PostgreSQL: applies everything once, records it exactly as Prisma would,
// and refuses divergent history (edited file, unknown or unfinished migration) without touching the schema.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrate, MIGRATIONS_DIR, readMigrations } from '@/infra/database/migrator';
import { createTestDatabase, TestDatabase } from '../support/db';

jest.setTimeout(60_000);

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function tablesOf(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const r = await c.query<{ t: string }>(
      `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
    );
    return r.rows.map((row) => row.t);
  });
}

/** A private copy of prisma/migrations that a test may edit. */
function copyMigrations(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'migrations-'));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

function addMigration(dir: string, name: string, sql: string): void {
  mkdirSync(path.join(dir, name));
  writeFileSync(path.join(dir, name, 'migration.sql'), sql);
}

describe('migrator', () => {
  let db: TestDatabase;
  const scratchDirs: string[] = [];

  beforeEach(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterEach(async () => {
    await db.drop();
    for (const d of scratchDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const scratch = (): string => {
    const d = copyMigrations();
    scratchDirs.push(d);
    return d;
  };

  it('applies every migration on disk to an empty database, in name order', async () => {
    const onDisk = (await readMigrations()).map((m) => m.name);
    expect(onDisk.length).toBeGreaterThan(0);
    const applied: string[] = [];

    const report = await migrate(db.url, { onApplied: (name) => applied.push(name) });

    expect(report).toEqual({ applied: onDisk, alreadyApplied: [] });
    expect(applied).toEqual(onDisk);
    expect(await tablesOf(db.url)).toEqual(
      expect.arrayContaining(['_prisma_migrations', 'users', 'websites', 'ping_logs']),
    );
  });

  it('is idempotent: a second run applies nothing and changes no row', async () => {
    await migrate(db.url);
    const before = await withClient(db.url, (c) => c.query('SELECT * FROM _prisma_migrations'));

    const report = await migrate(db.url);

    const after = await withClient(db.url, (c) => c.query('SELECT * FROM _prisma_migrations'));
    expect(report.applied).toEqual([]);
    expect(report.alreadyApplied).toEqual((await readMigrations()).map((m) => m.name));
    expect(after.rows).toEqual(before.rows);
  });

  it('records rows the way `prisma migrate deploy` does', async () => {
    await migrate(db.url);

    const columns = await withClient(db.url, (c) =>
      c.query(
        `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
           FROM information_schema.columns
          WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      ),
    );
    expect(columns.rows).toEqual([
      col('id', 'character varying', 36, 'NO'),
      col('checksum', 'character varying', 64, 'NO'),
      col('finished_at', 'timestamp with time zone', null, 'YES'),
      col('migration_name', 'character varying', 255, 'NO'),
      col('logs', 'text', null, 'YES'),
      col('rolled_back_at', 'timestamp with time zone', null, 'YES'),
      col('started_at', 'timestamp with time zone', null, 'NO', 'now()'),
      col('applied_steps_count', 'integer', null, 'NO', '0'),
    ]);

    const rows = await withClient(db.url, (c) =>
      c.query('SELECT * FROM _prisma_migrations ORDER BY migration_name'),
    );
    const onDisk = await readMigrations();
    expect(rows.rows).toHaveLength(onDisk.length);
    rows.rows.forEach((row, i) => {
      const file = path.join(MIGRATIONS_DIR, onDisk[i].name, 'migration.sql');
      expect(row).toEqual({
        id: expect.stringMatching(
          /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        ),
        checksum: createHash('sha256').update(readFileSync(file)).digest('hex'),
        finished_at: expect.any(Date),
        migration_name: onDisk[i].name,
        logs: null,
        rolled_back_at: null,
        started_at: expect.any(Date),
        applied_steps_count: 1,
      });
      expect(row.finished_at.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    });
  });

  it('refuses a migration whose file changed after it was applied', async () => {
    const dir = scratch();
    await migrate(db.url, { migrationsDir: dir });
    const [first] = await readMigrations(dir);
    const file = path.join(dir, first.name, 'migration.sql');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n-- edited later\n`);

    await expect(migrate(db.url, { migrationsDir: dir })).rejects.toThrow(
      new RegExp(`migration ${first.name} was modified after it was applied`),
    );
  });

  it('refuses a database that has a migration this code does not know', async () => {
    await migrate(db.url);
    await withClient(db.url, (c) =>
      c.query(
        `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count)
         VALUES ('00000000-0000-4000-8000-000000000000', repeat('0', 64), now(), '29990101000000_future', 1)`,
      ),
    );

    await expect(migrate(db.url)).rejects.toThrow(
      /database has migration 29990101000000_future applied, but prisma\/migrations does not contain it/,
    );
  });

  it('ignores rows marked rolled back, as Prisma does', async () => {
    await migrate(db.url);
    await withClient(db.url, (c) =>
      c.query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, rolled_back_at)
         VALUES ('00000000-0000-4000-8000-000000000001', repeat('0', 64), '29990101000000_gone', now())`,
      ),
    );

    await expect(migrate(db.url)).resolves.toMatchObject({ applied: [] });
  });

  it('refuses to continue after a migration that never finished', async () => {
    await migrate(db.url);
    const [first] = await readMigrations();
    await withClient(db.url, (c) =>
      c.query(`UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = $1`, [
        first.name,
      ]),
    );

    await expect(migrate(db.url)).rejects.toThrow(
      new RegExp(`migration ${first.name} started at .* and never finished`),
    );
  });

  it('rolls a failing migration back completely and names it in the error', async () => {
    const dir = scratch();
    addMigration(
      dir,
      '29990101000000_broken',
      'CREATE TABLE "half_done" (id INT);\nALTER TABLE "no_such_table" ADD COLUMN x INT;\n',
    );

    await expect(migrate(db.url, { migrationsDir: dir })).rejects.toThrow(
      /migration 29990101000000_broken failed and was rolled back: relation "no_such_table" does not exist/,
    );

    expect(await tablesOf(db.url)).not.toContain('half_done');
    const names = await withClient(db.url, (c) =>
      c.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations'),
    );
    // the good ones before it stay applied; the broken one leaves no row
    expect(names.rows.map((r) => r.migration_name)).not.toContain('29990101000000_broken');
    expect(names.rows.length).toBe((await readMigrations()).length);
  });

  it('lets only one of two nodes booting at once apply the migrations', async () => {
    const [a, b] = await Promise.all([migrate(db.url), migrate(db.url)]);

    const count = (await readMigrations()).length;
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, count]);
    const rows = await withClient(db.url, (c) => c.query('SELECT 1 FROM _prisma_migrations'));
    expect(rows.rowCount).toBe(count);
  });

  it('gives up with a clear error while another process holds the migration lock', async () => {
    await withClient(db.url, async (holder) => {
      await holder.query('SELECT pg_advisory_lock(72707369)');
      await expect(migrate(db.url, { lockTimeoutMs: 300 })).rejects.toThrow(
        /another process has held the migration lock/,
      );
    });
  });
});

function col(name: string, type: string, len: number | null, nullable: string, dflt?: string) {
  return {
    column_name: name,
    data_type: type,
    len,
    is_nullable: nullable,
    column_default: dflt ?? null,
  };
}
