/**
 * bench:consensus — end-to-end detection latency of the consensus pipeline on real
 * node processes (dist/main.js; build first), for 3 and 5 validators in distinct
 * regions on 127.0.0.1 with one throwaway PostgreSQL and in-process events.
 *
 * For each cluster size: BENCH_SITES local targets checked every PING_INTERVAL_MS
 * (2 s; PING_TIMEOUT_MS 800, TALLY_DEADLINE_MS 1500, MIN_VOTES = majority). Each trial
 * takes one site down at t0 and measures
 *   - committed: t0 → the DOWN decision is applied on the leader (its in-memory status,
 *     polled every 20 ms through GET /api/consensus/status/:siteId),
 *   - alert:     t0 → the DOWN alert row exists (alerts.created_at, i.e. the moment the
 *     projector recorded it, just before it is published to health-alerts),
 * then brings it back and waits for RECOVERED. Trials of different sites overlap.
 * Votes/s is what the tally counted on each node during the run (all validators'
 * votes after gossip), averaged over nodes — the load the sites generate, not a
 * saturation limit.
 *
 * Env: BENCH_SIZES ("3,5"), BENCH_SITES (6), BENCH_TRIALS (12 per size),
 * BENCH_RESULTS (bench/RESULTS.md; "-" prints only), TEST_PG_URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ClusterCaller, planCluster, startSpec } from '../test/support/cluster';
import { createTestDatabase } from '../test/support/db';
import type { NodeProcess } from '../test/support/node-process';
import { machineFacts, percentile, recordResults } from './support/results';

const env = (k: string, d: string) => process.env[k] ?? d;
const SIZES = env('BENCH_SIZES', '3,5').split(',').map(Number);
const SITES = Number(env('BENCH_SITES', '6'));
const TRIALS = Number(env('BENCH_TRIALS', '12'));
const RESULTS = env('BENCH_RESULTS', 'bench/RESULTS.md');
const INTERVAL_MS = 2_000;
const caller = new ClusterCaller();

interface Status {
  node: { role: string };
  site: { verdict: string } | null;
  tally: { counted: number };
  projector: { failures: number; projected: number };
}

async function statusOf(n: NodeProcess, siteId: string): Promise<Status | null> {
  try {
    const r = await caller.get<Status>(n.baseUrl, `/api/consensus/status/${siteId}`, 1_000);
    return r.status === 200 ? r.body : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(timeoutMs: number, probe: () => Promise<T | null | false>): Promise<T> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const v = await probe();
    if (v) return v;
    await sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms`);
}

interface SizeResult {
  size: number;
  committed: number[];
  alert: number[];
  votesPerSec: number;
  failures: number;
  projectorRetries: number;
}

async function runSize(size: number): Promise<SizeResult> {
  const down = new Set<string>();
  const target: Server = createServer((req, res) => {
    const id = (req.url ?? '').slice(1);
    if (down.has(id)) res.writeHead(503).end('down');
    else res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const { port } = target.address() as { port: number };
  const db = await createTestDatabase();
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const root = mkdtempSync(join(tmpdir(), `bench-consensus-${size}-`));
  let nodes: NodeProcess[] = [];
  try {
    const specs = await planCluster(size, (i) => join(root, `n${i + 1}`), {
      DATABASE_URL: db.url,
      PING_INTERVAL_MS: String(INTERVAL_MS),
      PING_TIMEOUT_MS: '800',
      TALLY_DEADLINE_MS: '1500',
      MIN_VOTES: String(Math.floor(size / 2) + 1),
      ALLOW_PRIVATE_TARGETS: 'true',
    });
    nodes = await Promise.all(specs.map(startSpec));
    await Promise.all(nodes.map((n) => n.waitReady(90_000)));
    const user = await pg.query<{ id: string }>(
      "INSERT INTO users (id, email, password_hash, updated_at) VALUES (gen_random_uuid(), 'bench@example.com', 'x', now()) RETURNING id",
    );
    const sites: string[] = [];
    for (let i = 0; i < SITES; i++) {
      const r = await pg.query<{ id: string }>(
        `INSERT INTO websites (id, owner_id, name, url, interval_ms, timeout_ms, expected_status, updated_at)
         VALUES (gen_random_uuid(), $1, $2, 'http://placeholder/', $3, 800, '{}', now()) RETURNING id`,
        [user.rows[0].id, `s${i}`, INTERVAL_MS],
      );
      const id = r.rows[0].id;
      await pg.query('UPDATE websites SET url = $1, updated_at = now() WHERE id = $2', [
        `http://127.0.0.1:${port}/${id}`,
        id,
      ]);
      sites.push(id);
    }
    const leader = async () =>
      until(30_000, async () => {
        const all = await Promise.all(nodes.map((n) => statusOf(n, sites[0])));
        const i = all.findIndex((s) => s?.node.role === 'leader');
        return i >= 0 ? nodes[i] : null;
      });
    // Every site UP everywhere first.
    await until(60_000, async () => {
      const l = await leader();
      const all = await Promise.all(sites.map((s) => statusOf(l, s)));
      return all.every((s) => s?.site?.verdict === 'UP');
    });
    const countedAt = async () =>
      (await Promise.all(nodes.map((n) => statusOf(n, sites[0])))).map(
        (s) => s?.tally.counted ?? 0,
      );
    const c0 = await countedAt();
    const tStart = Date.now();

    const committed: number[] = [];
    const alert: number[] = [];
    let failures = 0;
    const trial = async (siteId: string) => {
      const l = await leader();
      const t0 = Date.now();
      down.add(siteId);
      try {
        await until(20_000, async () => (await statusOf(l, siteId))?.site?.verdict === 'DOWN');
        committed.push(Date.now() - t0);
        const at = await until(20_000, async () => {
          const r = await pg.query<{ created_at: Date }>(
            "SELECT created_at FROM alerts WHERE website_id = $1 AND kind = 'DOWN' ORDER BY created_at DESC LIMIT 1",
            [siteId],
          );
          const c = r.rows[0]?.created_at;
          return c && c.getTime() >= t0 - 5 ? c.getTime() : null;
        });
        alert.push(at - t0);
      } catch {
        failures++;
      }
      down.delete(siteId);
      await until(20_000, async () => (await statusOf(l, siteId))?.site?.verdict === 'UP').catch(
        () => failures++,
      );
    };
    // Sites take turns; a few trials overlap, started at random offsets within a round.
    let next = 0;
    await Promise.all(
      sites.map(async (siteId) => {
        await sleep(Math.random() * INTERVAL_MS);
        while (next < TRIALS) {
          next++;
          await trial(siteId);
          await sleep(Math.random() * INTERVAL_MS);
        }
      }),
    );
    const elapsed = (Date.now() - tStart) / 1000;
    const c1 = await countedAt();
    const perNode = c1.map((c, i) => (c - c0[i]) / elapsed);
    const votesPerSec = perNode.reduce((a, b) => a + b, 0) / perNode.length;
    const projectorRetries = (await Promise.all(nodes.map((n) => statusOf(n, sites[0])))).reduce(
      (a, st) => a + (st?.projector.failures ?? 0),
      0,
    );
    return { size, committed, alert, votesPerSec, failures, projectorRetries };
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGTERM').catch(() => undefined)));
    await pg.end().catch(() => undefined);
    await db.drop().catch(() => undefined);
    await new Promise((r) => target.close(r));
    rmSync(root, { recursive: true, force: true });
  }
}

async function main() {
  const results: SizeResult[] = [];
  for (const size of SIZES) {
    process.stdout.write(`cluster of ${size}…\n`);
    results.push(await runSize(size));
  }
  const fmt = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? `${percentile(s, p).toFixed(0)} ms` : 'n/a';
  };
  const rows = results.map(
    (r) =>
      `| ${r.size} | ${r.committed.length} | ${fmt(r.committed, 50)} | ${fmt(r.committed, 99)} | ` +
      `${fmt(r.alert, 50)} | ${fmt(r.alert, 99)} | ${r.votesPerSec.toFixed(1)} | ${r.failures} | ${r.projectorRetries} |`,
  );
  recordResults(
    RESULTS,
    [
      `## bench:consensus — ${new Date().toISOString()}`,
      '',
      machineFacts(),
      '',
      `Real node processes on 127.0.0.1 (one region each), one PostgreSQL, in-process events; ` +
        `${SITES} sites checked every ${INTERVAL_MS} ms (timeout 800 ms, tally deadline 1500 ms, ` +
        `MIN_VOTES = majority). Latency from the target turning 503 to the DOWN decision applied on ` +
        `the leader, and to the DOWN alert recorded (alerts.created_at, published right after). ` +
        `The expected bound is one interval (the next round) + timeout + gossip + commit.`,
      '',
      '| validators | trials | committed p50 | committed p99 | alert p50 | alert p99 | votes/s tallied per node | failed trials | projector retries |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n'),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
