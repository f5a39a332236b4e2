// Throwaway PostgreSQL databases for integration tests: each call creates a uniquely named database on
// the test server (TEST_PG_URL, default 127.0.0.1:5432) and drop() removes it. Unreachable is an error, never a skip.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrate } from '@/infra/database/migrator';

/** A maintenance database on the test server; the throwaway ones are created beside it. */
const BASE_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** apply prisma/migrations (default true); false gives an empty database */
  migrate?: boolean;
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `uptime_test_${process.pid}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await admin(`CREATE DATABASE "${name}"`);
  const url = urlFor(name);
  const drop = () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  if (options.migrate ?? true) {
    await migrate(url).catch(async (e: unknown) => {
      await drop();
      throw e;
    });
  }
  return { url, name, drop };
}

function urlFor(database: string): string {
  const u = new URL(BASE_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: BASE_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (e) {
    throw new Error(
      `integration tests need PostgreSQL, but ${redact(BASE_URL)} is not reachable ` +
        `(${(e as Error).message}). Start PostgreSQL or point TEST_PG_URL at one.`,
      { cause: e },
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * One user and `count` sites straight into the tables (what a scale test needs in seconds, not
 * through the API): site g checks `${urlPrefix}${g}`. Returns the site ids.
 */
export async function insertSites(
  pg: Client,
  o: { email: string; count: number; urlPrefix: string; intervalMs: number; timeoutMs: number },
): Promise<string[]> {
  const user = await pg.query<{ id: string }>(
    `INSERT INTO users (id, email, password_hash, updated_at)
     VALUES (gen_random_uuid(), $1, 'x', now()) RETURNING id`,
    [o.email],
  );
  const r = await pg.query<{ id: string }>(
    `INSERT INTO websites (id, owner_id, name, url, interval_ms, timeout_ms, expected_status, updated_at)
     SELECT gen_random_uuid(), $1, 's' || g, $2 || g, $3, $4, '{}', now()
       FROM generate_series(1, $5) g RETURNING id`,
    [user.rows[0].id, o.urlPrefix, o.intervalMs, o.timeoutMs, o.count],
  );
  return r.rows.map((x) => x.id);
}
