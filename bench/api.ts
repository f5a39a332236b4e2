/**
 * bench:api — GET /api/websites/:id/summary and /history under concurrent load.
 *
 * Seeds a throwaway PostgreSQL database with 30 days of checks for 50 sites × 5
 * validators (5 regions) at a 60 s interval: 10.8 M raw ping_logs rows generated
 * server-side (INSERT … SELECT generate_series, two sessions in parallel), then the
 * hourly and daily rollups aggregated from those rows with the writer's own bucket
 * layout, plus incidents and site statuses. Then it starts the real app in a child
 * process (so the load generator does not share its event loop), loads the two
 * endpoints from N keep-alive connections on 127.0.0.1 for a bounded time, and
 * appends p50/p99 latency and req/s to bench/RESULTS.md. Target: summary p99 < 50 ms.
 *
 * Env: BENCH_SITES (50), BENCH_VALIDATORS (5), BENCH_DAYS (30), BENCH_RAW_DAYS (30),
 * BENCH_DURATION_S (20 per phase), BENCH_CONNECTIONS (10), BENCH_RESULTS
 * (bench/RESULTS.md; "-" prints only), TEST_PG_URL (the server for the throwaway DB),
 * BENCH_KEEP_DB (keep the database for EXPLAIN), BENCH_CPU_PROF (a directory: profile the app).
 */
import { ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Pool } from 'undici';
import { hashPassword } from '@/modules/auth/password-hasher';
import {
  LATENCY_BUCKET_BOUNDS_MS,
  LATENCY_BUCKET_COUNT,
} from '@/modules/ping-logs/latency-histogram';
import { createTestDatabase } from '../test/support/db';

const env = (k: string, d: string) => process.env[k] ?? d;
const SITES = Number(env('BENCH_SITES', '50'));
const VALIDATORS = Number(env('BENCH_VALIDATORS', '5'));
const DAYS = Number(env('BENCH_DAYS', '30'));
const RAW_DAYS = Math.min(DAYS, Number(env('BENCH_RAW_DAYS', String(DAYS))));
const DURATION_S = Number(env('BENCH_DURATION_S', '20'));
const CONNECTIONS = Number(env('BENCH_CONNECTIONS', '10'));
const RESULTS = env('BENCH_RESULTS', 'bench/RESULTS.md');
const REGIONS = ['eu-west', 'eu-central', 'us-east', 'us-west', 'ap-south'];
const INTERVAL_S = 60;
const ROUNDS_PER_DAY = 86_400 / INTERVAL_S;
const EMAIL = 'bench@example.com';
const PASSWORD = 'bench password 123';

const log = (m: string) => process.stdout.write(`[bench:api] ${m}\n`);

interface Seeded {
  siteIds: string[];
  rawRows: number;
  hourlyRows: number;
  dailyRows: number;
  incidents: number;
  seedSeconds: number;
  dbSize: string;
  pgVersion: string;
}

// ---------------------------------------------------------------- seeding

/** One site's raw rows for rounds [from, to]; deterministic pseudo-random checks. */
function rawInsertSql(siteIndex: number, siteId: string, fromRound: number, toRound: number) {
  // h: a cheap hash of (round, validator, site). 0.3 % of checks fail on their own; every
  // 6 days the site is down 20 min everywhere; every 7 days ap-south loses it for 10 min.
  return `
    INSERT INTO ping_logs (website_id, validator_id, region, round, up, latency_ms, http_status,
                           failure, error, phases, checked_at)
    SELECT '${siteId}'::uuid, 'v' || v, (ARRAY[${REGIONS.map((r) => `'${r}'`).join(',')}])[1 + (v - 1) % ${REGIONS.length}],
           r, NOT down, lat, CASE WHEN down THEN NULL ELSE 200 END,
           CASE WHEN down THEN 'TIMEOUT'::"FailureClass" END,
           CASE WHEN down THEN 'timed out after 10000 ms' END,
           jsonb_build_object('dns', 1, 'connect', lat / 4, 'firstByte', lat / 2, 'total', lat),
           to_timestamp((r * ${INTERVAL_S * 1000} + ${(siteIndex * 997) % (INTERVAL_S * 1000)} + v * 40) / 1000.0)
    FROM generate_series(${fromRound}::bigint, ${toRound}::bigint) r,
         generate_series(1, ${VALIDATORS}) v,
         LATERAL (SELECT ((r * 2654435761 + v * 40503 + ${siteIndex * 7919}) % 1000003) AS h) x,
         LATERAL (SELECT (h % 1000 < 3)
                      OR ((r + ${siteIndex * 37}) % 8640 < 20)
                      OR (v % ${REGIONS.length} = 0 AND (r + ${siteIndex * 53}) % 10080 < 10) AS down) d,
         LATERAL (SELECT CASE WHEN down THEN 10000
                              ELSE 25 + (h / 1000) % 150 + (1 + (v - 1) % ${REGIONS.length}) * 20
                                   + CASE WHEN h % 97 = 0 THEN 900 ELSE 0 END END AS lat) l`;
}

const HIST = `ARRAY[${Array.from(
  { length: LATENCY_BUCKET_COUNT },
  (_, i) => `count(*) FILTER (WHERE b = ${i})`,
).join(', ')}]::int[]`;
const BOUNDS = `ARRAY[${LATENCY_BUCKET_BOUNDS_MS.join(',')}]::int[]`;

/** The writer's rollup of one site, computed from its raw rows in one pass per grain. */
function rollupSql(table: string, grain: 'hour' | 'day', siteId: string): string {
  return `
    INSERT INTO ${table} (website_id, region, bucket_start, checks, up_checks, latency_sum_ms,
                          latency_count, latency_max_ms, latency_hist)
    SELECT website_id, g.region, date_trunc('${grain}', checked_at, 'UTC'), count(*),
           count(*) FILTER (WHERE up), coalesce(sum(lat), 0), count(lat), coalesce(max(lat), 0), ${HIST}
    FROM (SELECT website_id, region, checked_at, up,
                 CASE WHEN up THEN latency_ms END AS lat,
                 CASE WHEN up THEN width_bucket(latency_ms, ${BOUNDS}) END AS b
          FROM ping_logs WHERE website_id = '${siteId}') p
    CROSS JOIN LATERAL (VALUES (p.region), ('*')) AS g(region)
    GROUP BY 1, 2, 3`;
}

async function seed(url: string): Promise<Seeded> {
  const started = Date.now();
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined); // reported by the failing query itself
  await c.connect();
  const pgVersion = ((await c.query('SHOW server_version')).rows[0] as { server_version: string })
    .server_version;
  const hash = await hashPassword(PASSWORD);
  const owner = (
    await c.query(
      `INSERT INTO users (id, email, password_hash, updated_at)
       VALUES (gen_random_uuid(), $1, $2, now()) RETURNING id`,
      [EMAIL, hash],
    )
  ).rows[0].id as string;
  // Paused: the summary does not care, and the scheduler then sends nothing anywhere.
  const siteIds = (
    await c.query(
      `INSERT INTO websites (id, owner_id, name, url, interval_ms, timeout_ms, expected_status,
                             paused, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'site ' || s, 'http://127.0.0.1:9/' || s, 60000, 10000,
              '{200}', true, now() - interval '${DAYS} days', now()
       FROM generate_series(1, $2::int) s RETURNING id`,
      [owner, SITES],
    )
  ).rows.map((r: { id: string }) => r.id);

  const lastRound = Math.floor(Date.now() / (INTERVAL_S * 1000)) - 1;
  const firstRound = lastRound - DAYS * ROUNDS_PER_DAY + 1;
  const firstRawRound = lastRound - RAW_DAYS * ROUNDS_PER_DAY + 1;
  log(
    `seeding ${SITES} sites × ${VALIDATORS} validators × ${RAW_DAYS * ROUNDS_PER_DAY} rounds ` +
      `= ${(SITES * VALIDATORS * RAW_DAYS * ROUNDS_PER_DAY).toLocaleString('en')} raw rows`,
  );

  // Two sessions in parallel: one per core. Each site: raw rows, then its rollups.
  const second = new Client({ connectionString: url });
  second.on('error', () => undefined);
  await second.connect();
  let done = 0;
  const work = async (client: Client, part: number) => {
    for (let i = part; i < siteIds.length; i += 2) {
      const id = siteIds[i];
      await client.query(rawInsertSql(i, id, firstRawRound, lastRound));
      await client.query(rollupSql('ping_rollup_hourly', 'hour', id));
      await client.query(rollupSql('ping_rollup_daily', 'day', id));
      if (++done % 10 === 0) log(`  ${done}/${siteIds.length} sites seeded`);
    }
  };
  try {
    await Promise.all([work(c, 0), work(second, 1)]);
  } finally {
    await second.end();
  }

  if (RAW_DAYS < DAYS) {
    // Older days as rollups only (what retention would have left): scale the newest day.
    log(`extending rollups to ${DAYS} days from the raw ${RAW_DAYS}`);
    for (const table of ['ping_rollup_hourly', 'ping_rollup_daily']) {
      await c.query(
        `INSERT INTO ${table} SELECT website_id, region, bucket_start - make_interval(days => k),
                checks, up_checks, latency_sum_ms, latency_count, latency_max_ms, latency_hist
         FROM ${table}, generate_series(${RAW_DAYS}, ${DAYS - 1}, ${RAW_DAYS}) k
         ON CONFLICT DO NOTHING`,
      );
    }
  }

  // Incidents matching the generated outages: global every 6 days, ap-south every 7.
  const incidents = await c.query(
    `INSERT INTO incidents (website_id, region, started_at, ended_at, start_round, end_round)
     SELECT w.id, o.region, to_timestamp(o.r * ${INTERVAL_S}), to_timestamp((o.r + o.len) * ${INTERVAL_S}),
            o.r, o.r + o.len
     FROM unnest($1::uuid[]) WITH ORDINALITY AS w(id, n)
     CROSS JOIN LATERAL (SELECT w.n - 1 AS i) w0
     CROSS JOIN LATERAL (
       SELECT r, NULL::varchar AS region, 20 AS len FROM generate_series(${firstRound}, ${lastRound}) r
        WHERE (r + w0.i * 37) % 8640 = 0
       UNION ALL
       SELECT r, 'ap-south', 10 FROM generate_series(${firstRound}, ${lastRound}) r
        WHERE (r + w0.i * 53) % 10080 = 0) o`,
    [siteIds],
  );
  await c.query(
    `INSERT INTO site_status (website_id, verdict, since, last_round, last_log_index,
                              region_status, updated_at)
     SELECT id, 'UP', now() - interval '1 hour', ${lastRound}, 1,
            '{"eu-west":"UP","eu-central":"UP","us-east":"UP","us-west":"UP","ap-south":"UP"}', now()
     FROM websites`,
  );
  await c.query('ANALYZE');
  const count = async (sql: string) => Number((await c.query(sql)).rows[0].n);
  const seeded: Seeded = {
    siteIds,
    rawRows: await count('SELECT count(*) AS n FROM ping_logs'),
    hourlyRows: await count('SELECT count(*) AS n FROM ping_rollup_hourly'),
    dailyRows: await count('SELECT count(*) AS n FROM ping_rollup_daily'),
    incidents: incidents.rowCount ?? 0,
    seedSeconds: (Date.now() - started) / 1000,
    dbSize: (await c.query('SELECT pg_size_pretty(pg_database_size(current_database())) AS s'))
      .rows[0].s,
    pgVersion,
  };
  await c.end();
  return seeded;
}

// ---------------------------------------------------------------- the app

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startApp(dbUrl: string, port: number, dataDir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF
        ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      'src/main.ts',
    ],
    {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        DATABASE_URL: dbUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789',
        DB_POOL_SIZE: '10',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`app exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('app not ready within 120 s');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------------------------------------------------------------- load

interface PhaseResult {
  phase: string;
  /** CPU per request of the whole phase (all its endpoints): app process, its DB backends */
  appCpuMs: number;
  pgCpuMs: number;
  endpoint: string;
  connections: number;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

type PathFor = (rand: () => number) => string;

function quantile(sorted: number[], p: number): number {
  return sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
    : NaN;
}

/** A seeded xorshift, so every run asks for the same sequence of pages. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** CPU time (ms) of a process from /proc; 0 once it is gone. */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}
const TICKS_PER_S = 100;

/**
 * CPU spent by the app process and by the PostgreSQL backends serving the bench database
 * during a phase: unlike latency, this barely moves when other work shares the machine.
 */
class CpuMeter {
  private appStart = 0;
  private readonly pgStart = new Map<number, number>();
  private readonly pgLast = new Map<number, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly appPid: number,
    private readonly db: Client,
  ) {}

  async start(): Promise<void> {
    this.appStart = cpuMsOf(this.appPid);
    this.pgStart.clear();
    this.pgLast.clear();
    for (const pid of await this.backends()) this.pgStart.set(pid, cpuMsOf(pid));
    this.timer = setInterval(() => void this.sample(), 500);
  }

  async stop(): Promise<{ appMs: number; pgMs: number }> {
    clearInterval(this.timer);
    await this.sample();
    let pgMs = 0;
    for (const [pid, last] of this.pgLast) pgMs += last - (this.pgStart.get(pid) ?? 0);
    return { appMs: cpuMsOf(this.appPid) - this.appStart, pgMs };
  }

  private async backends(): Promise<number[]> {
    const r = await this.db.query(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return r.rows.map((x: { pid: number }) => x.pid);
  }

  private async sample(): Promise<void> {
    for (const pid of await this.backends()) {
      const ms = cpuMsOf(pid);
      if (ms > 0) this.pgLast.set(pid, Math.max(ms, this.pgLast.get(pid) ?? 0));
    }
  }
}

async function runPhase(
  pool: Pool,
  token: string,
  meter: CpuMeter,
  phase: string,
  groups: { endpoint: string; connections: number; path: PathFor }[],
  seconds: number,
): Promise<PhaseResult[]> {
  await meter.start();
  const end = Date.now() + seconds * 1000;
  const partial = await Promise.all(
    groups.map(async (g, gi) => {
      const latencies: number[] = [];
      let errors = 0;
      const started = Date.now();
      await Promise.all(
        Array.from({ length: g.connections }, async (_, w) => {
          const rand = rng(1 + gi * 1000 + w);
          while (Date.now() < end) {
            const t0 = performance.now();
            try {
              const res = await pool.request({
                path: g.path(rand),
                method: 'GET',
                headers: { authorization: `Bearer ${token}` },
              });
              await res.body.text();
              if (res.statusCode !== 200) errors++;
            } catch {
              errors++;
            }
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const elapsed = (Date.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      return {
        phase,
        appCpuMs: 0,
        pgCpuMs: 0,
        endpoint: g.endpoint,
        connections: g.connections,
        requests: latencies.length,
        errors,
        rps: latencies.length / elapsed,
        p50: quantile(latencies, 0.5),
        p90: quantile(latencies, 0.9),
        p99: quantile(latencies, 0.99),
        max: latencies[latencies.length - 1] ?? NaN,
      };
    }),
  );
  const cpu = await meter.stop();
  const total = partial.reduce((n, r) => n + r.requests, 0);
  const results = partial.map((r) => ({
    ...r,
    appCpuMs: cpu.appMs / total,
    pgCpuMs: cpu.pgMs / total,
  }));
  for (const r of results) {
    log(
      `${phase} ${r.endpoint}: ${r.requests} req, ${r.rps.toFixed(0)} req/s, ` +
        `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, errors ${r.errors}, ` +
        `CPU/req app ${r.appCpuMs.toFixed(2)} ms, PostgreSQL ${r.pgCpuMs.toFixed(2)} ms`,
    );
  }
  return results;
}

// ---------------------------------------------------------------- main

const LOAD_AT_START = loadavg();

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  let app: ChildProcess | undefined;
  try {
    const seeded = await seed(db.url);
    log(
      `seeded in ${seeded.seedSeconds.toFixed(0)} s: ${seeded.rawRows.toLocaleString('en')} raw, ` +
        `${seeded.hourlyRows} hourly, ${seeded.dailyRows} daily, ${seeded.incidents} incidents, ${seeded.dbSize}`,
    );
    const port = await freePort();
    app = await startApp(db.url, port, dataDir);
    const origin = `http://127.0.0.1:${port}`;
    const login = await fetch(`${origin}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
    });
    const token = ((await login.json()) as { accessToken: string }).accessToken;
    if (!token) throw new Error(`login failed: ${login.status}`);

    // Sanity: the API's figures are those of the raw rows (the rollups were built from them).
    const sanity = await checkAgainstRaw(db.url, origin, token, seeded.siteIds[0]);
    log(`sanity: ${sanity}`);

    const ids = seeded.siteIds;
    const now = Date.now();
    const summary: PathFor = (r) => `/api/websites/${ids[Math.floor(r() * ids.length)]}/summary`;
    const history: PathFor = (r) => {
      const id = ids[Math.floor(r() * ids.length)];
      const pick = r();
      // A third first pages, a third a page at a random point of the 30 days (as a cursor
      // or a 'to' gives), a third filtered by region or validator.
      if (pick < 1 / 3) return `/api/websites/${id}/history?limit=50`;
      if (pick < 2 / 3) {
        const to = new Date(now - r() * RAW_DAYS * 86_400_000).toISOString();
        return `/api/websites/${id}/history?limit=50&to=${encodeURIComponent(to)}`;
      }
      return r() < 0.5
        ? `/api/websites/${id}/history?limit=50&region=${REGIONS[Math.floor(r() * REGIONS.length)]}`
        : `/api/websites/${id}/history?limit=50&validator=v${1 + Math.floor(r() * VALIDATORS)}`;
    };

    const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1 });
    const meterDb = new Client({ connectionString: db.url });
    await meterDb.connect();
    const meter = new CpuMeter(app.pid!, meterDb);
    const half = Math.max(1, Math.floor(CONNECTIONS / 2));
    const phases: [string, { endpoint: string; connections: number; path: PathFor }[]][] = [
      ['summary, 1 connection', [{ endpoint: 'summary', connections: 1, path: summary }]],
      ['summary only', [{ endpoint: 'summary', connections: CONNECTIONS, path: summary }]],
      ['history only', [{ endpoint: 'history', connections: CONNECTIONS, path: history }]],
      [
        'mixed',
        [
          { endpoint: 'summary', connections: CONNECTIONS - half, path: summary },
          { endpoint: 'history', connections: half, path: history },
        ],
      ],
    ];
    log(`warm-up 3 s`);
    await runPhase(pool, token, meter, 'warm-up', phases[3][1], 3);
    const results: PhaseResult[] = [];
    for (const [name, groups] of phases) {
      results.push(...(await runPhase(pool, token, meter, name, groups, DURATION_S)));
    }
    await pool.close();
    await meterDb.end();
    report(seeded, results, sanity);
  } finally {
    if (app && app.exitCode === null) {
      app.kill('SIGTERM');
      await new Promise((r) => app!.once('exit', r));
    }
    if (process.env.BENCH_KEEP_DB) log(`database kept: ${db.url}`);
    else await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Compares the 24 h and all-time uptime of one site with a direct count of its raw rows. */
async function checkAgainstRaw(
  dbUrl: string,
  origin: string,
  token: string,
  siteId: string,
): Promise<string> {
  const res = await fetch(`${origin}/api/websites/${siteId}/summary`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const s = (await res.json()) as {
    windows: { window: string; from: string | null; checks: number; upChecks: number }[];
  };
  const c = new Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const out: string[] = [];
    for (const w of s.windows.filter((x) => x.window === '24h' || x.window === 'all')) {
      const raw = (
        await c.query(
          `SELECT count(*)::int AS checks, count(*) FILTER (WHERE up)::int AS up FROM ping_logs
           WHERE website_id = $1 AND ($2::timestamptz IS NULL OR checked_at >= $2)`,
          [siteId, w.from],
        )
      ).rows[0] as { checks: number; up: number };
      const same = raw.checks === w.checks && raw.up === w.upChecks;
      if (!same && RAW_DAYS === DAYS) {
        throw new Error(
          `summary ${w.window} ${w.upChecks}/${w.checks} != raw ${raw.up}/${raw.checks}`,
        );
      }
      out.push(
        `${w.window} ${w.upChecks}/${w.checks} ${same ? '=' : '≠'} raw ${raw.up}/${raw.checks}`,
      );
    }
    return out.join('; ');
  } finally {
    await c.end();
  }
}

function report(seeded: Seeded, results: PhaseResult[], sanity: string): void {
  const summaryP99 = Math.max(...results.filter((r) => r.endpoint === 'summary').map((r) => r.p99));
  const lines = [
    `## bench:api — ${new Date().toISOString()}`,
    '',
    '| machine | |',
    '|---|---|',
    `| nproc | ${cpus().length} |`,
    `| CPU | ${cpus()[0]?.model ?? 'unknown'} |`,
    `| RAM | ${(totalmem() / 2 ** 30).toFixed(1)} GiB |`,
    `| Node | ${process.version} |`,
    `| PostgreSQL | ${seeded.pgVersion} (local, same machine) |`,
    `| date | ${new Date().toISOString()} |`,
    `| load average (1/5/15 min) at start, at end | ${fmtLoad(LOAD_AT_START)}; ${fmtLoad(loadavg())} |`,
    '',
    `Data: ${SITES} sites × ${VALIDATORS} validators (${REGIONS.length} regions), 60 s interval, ` +
      `${DAYS} days: ${seeded.rawRows.toLocaleString('en')} raw ping_logs rows` +
      `${RAW_DAYS < DAYS ? ` (last ${RAW_DAYS} days; older days as rollups only)` : ''}, ` +
      `${seeded.hourlyRows.toLocaleString('en')} hourly and ${seeded.dailyRows.toLocaleString('en')} daily rollup rows, ` +
      `${seeded.incidents} incidents; database ${seeded.dbSize}, seeded in ${seeded.seedSeconds.toFixed(0)} s ` +
      `(raw rows generated in SQL, rollups aggregated from them with the writer's bucket layout). ` +
      `App: a child process (ts-node, LOG_LEVEL=warn, pool 10) on 127.0.0.1; load: ${CONNECTIONS} keep-alive ` +
      `connections (undici), ${DURATION_S} s per phase after a 3 s warm-up; summary = random site; ` +
      `history = 50 rows, a third first pages, a third at a random point of the ${RAW_DAYS} days, a third filtered by region or validator. ` +
      `Sanity: ${sanity}.`,
    '',
    '| phase | endpoint | connections | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | app CPU ms/req | PostgreSQL CPU ms/req |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.phase} | ${r.endpoint} | ${r.connections} | ${r.requests} | ${r.rps.toFixed(0)} | ` +
        `${r.p50.toFixed(1)} | ${r.p90.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.errors} | ` +
        `${r.appCpuMs.toFixed(2)} | ${r.pgCpuMs.toFixed(2)} |`,
    ),
    '',
    'CPU per request is measured over the whole phase (/proc of the app process and of the ' +
      'PostgreSQL backends serving the bench database), so it stays meaningful when other work ' +
      'shares the machine, unlike the latencies.',
    '',
    `Target summary p99 < 50 ms: ${summaryP99 < 50 ? 'met' : 'NOT met'} (worst summary p99 under concurrent load ${summaryP99.toFixed(1)} ms).`,
    '',
  ];
  const text = lines.join('\n');
  process.stdout.write(`\n${text}\n`);
  if (RESULTS === '-') return;
  if (!existsSync(RESULTS)) writeFileSync(RESULTS, '# Benchmark results\n\n');
  appendFileSync(RESULTS, `${text}\n`);
  log(`appended to ${RESULTS}`);
}

function fmtLoad(l: number[]): string {
  return l.map((x) => x.toFixed(2)).join(' / ');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:api failed: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
  process.exit(1);
});
