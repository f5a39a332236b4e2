/**
 * SQL seeding for dashboard tests: many sites at once with a committed status, hourly
 * rollups for the last 24 h and daily rollups for 90 days, so lists, sparklines, uptime bars
 * and badges have data without running thousands of checks.
 */
import { Client } from 'pg';
import { LATENCY_BUCKET_COUNT } from '@/modules/ping-logs/latency-histogram';

export interface SeedOptions {
  ownerId: string;
  count: number;
  /** site name prefix; sites are named `${prefix} 0001` … */
  prefix: string;
  /** default 86,400,000 (24 h): the scheduler checks each seeded site about once a day */
  intervalMs?: number;
  /** default http://127.0.0.1:9/ (discard port: refused) */
  url?: string;
  /** every n-th site is DOWN (0: none) */
  downEvery?: number;
  /** every n-th site is UP with one region DOWN (0: none) */
  regionDownEvery?: number;
  hourly?: boolean;
  daily?: boolean;
}

export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Inserts `count` sites of `ownerId` with status and rollups; returns their ids, newest first. */
export async function seedSites(dbUrl: string, o: SeedOptions): Promise<string[]> {
  const hist = `array_fill(0, ARRAY[${LATENCY_BUCKET_COUNT}])`;
  return withClient(dbUrl, async (c) => {
    await c.query('BEGIN');
    const { rows } = await c.query<{ id: string }>(
      `INSERT INTO websites (id, owner_id, name, url, interval_ms, timeout_ms, expected_status, paused,
                             created_at, updated_at)
       SELECT gen_random_uuid(), $1::uuid, $2 || ' ' || lpad(i::text, 4, '0'), $3 || 's' || i,
              $4::int, 5000, '{}', false, now() - (i || ' ms')::interval, now()
       FROM generate_series(1, $5::int) AS i
       RETURNING id`,
      [o.ownerId, o.prefix, o.url ?? 'http://127.0.0.1:9/', o.intervalMs ?? 86_400_000, o.count],
    );
    const ids = rows.map((r) => r.id);
    await c.query(
      `INSERT INTO site_status (website_id, verdict, since, last_round, last_log_index, region_status, updated_at)
       SELECT w.id,
              (CASE WHEN $2::int > 0 AND n % $2::int = 0 THEN 'DOWN' ELSE 'UP' END)::"Verdict",
              now() - interval '3 hours', 1000, n,
              CASE WHEN $3::int > 0 AND n % $3::int = 0
                   THEN '{"eu-west":"DOWN","us-east":"UP"}'::jsonb
                   ELSE '{"eu-west":"UP","us-east":"UP"}'::jsonb END,
              now()
       FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM websites WHERE id = ANY($1::uuid[])) w`,
      [ids, o.downEvery ?? 0, o.regionDownEvery ?? 0],
    );
    if (o.hourly ?? true)
      await c.query(
        `INSERT INTO ping_rollup_hourly (website_id, region, bucket_start, checks, up_checks,
                                         latency_sum_ms, latency_count, latency_max_ms, latency_hist)
         SELECT w.id, '*', date_trunc('hour', now()) - (h || ' hours')::interval, 60,
                60 - (CASE WHEN h % 7 = 0 THEN 1 ELSE 0 END),
                60 * (60 + abs(hashtext(w.id::text || h::text)) % 140), 60, 400, ${hist}
         FROM websites w, generate_series(0, 23) AS h
         WHERE w.id = ANY($1::uuid[])`,
        [ids],
      );
    if (o.daily ?? true)
      await c.query(
        `INSERT INTO ping_rollup_daily (website_id, region, bucket_start, checks, up_checks,
                                        latency_sum_ms, latency_count, latency_max_ms, latency_hist)
         SELECT w.id, '*', date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - (d || ' days')::interval,
                1440, 1440 - (CASE WHEN d % 11 = 3 THEN 30 ELSE 0 END),
                1440 * 120, 1440, 900, ${hist}
         FROM websites w, generate_series(0, 89) AS d
         WHERE w.id = ANY($1::uuid[])`,
        [ids],
      );
    // each site's latest check, a minute ago
    await c.query(
      `INSERT INTO ping_logs (website_id, validator_id, region, round, up, latency_ms, http_status, failure, checked_at)
       SELECT w.id, 'v-eu-1', 'eu-west', 1000, s.verdict = 'UP', 40 + abs(hashtext(w.id::text)) % 300,
              CASE WHEN s.verdict = 'UP' THEN 200 END,
              (CASE WHEN s.verdict = 'UP' THEN NULL ELSE 'CONNECT' END)::"FailureClass",
              now() - interval '1 minute'
       FROM websites w JOIN site_status s ON s.website_id = w.id
       WHERE w.id = ANY($1::uuid[])`,
      [ids],
    );
    await c.query('COMMIT');
    return ids;
  });
}

export async function userIdOf(dbUrl: string, email: string): Promise<string> {
  return withClient(dbUrl, async (c) => {
    const { rows } = await c.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [
      email,
    ]);
    if (!rows[0]) throw new Error(`no user ${email}`);
    return rows[0].id;
  });
}
