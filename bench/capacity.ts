/**
 * bench:capacity (issue 10): real node processes (dist/main.js; `npm run build` first),
 * one throwaway PostgreSQL, in-process events, N sites at 20 s on one local HTTP target
 * served by a child process. Per configuration, after a warm-up, over a measured window:
 *   - checks/s achieved vs expected (ping_logs rows: every check of every node is one row),
 *   - Raft entries committed/s (the leader's commitIndex) and decisions projected/s (rows),
 *   - projection lag p50/p99 (a decision row's age when it is first seen, 500 ms polls),
 *   - CPU ms per site-round per node (utime+stime of the node process over the window,
 *     / sites / rounds in the window), and PostgreSQL's (every backend of the bench
 *     database, / nodes), and RSS.
 * BENCH_CONFIGS: "nodes x sites" pairs, e.g. "3x5000,3x10000,1x5000" (default).
 * BENCH_NODE_ENV ("K=V,…" for every node), BENCH_WARMUP_S (40), BENCH_WINDOW_S (60), BENCH_ROOT (another built checkout), BENCH_PROFILE=1 writes --cpu-prof profiles of
 * each node to BENCH_PROFILE_DIR (tmp)/<config>/ and prints their top entries. BENCH_RESULTS.
 */
import { ChildProcess, spawn } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { ClusterCaller, planCluster, type ClusterNodeSpec } from '../test/support/cluster';
import { createTestDatabase } from '../test/support/db';
import { freePort, ROOT } from '../test/support/node-process';
import { machineFacts, percentile, recordResults } from './support/results';
import { topOfProfile } from './support/cpu-profile';
import { NODE_FLAGS } from '../src/config/node-flags';

const env = (k: string, d: string) => process.env[k] ?? d;
const CONFIGS = env('BENCH_CONFIGS', '3x5000,3x10000,1x5000')
  .split(',')
  .map((c) => c.trim().split('x').map(Number) as [number, number]);
const WARMUP_S = Number(env('BENCH_WARMUP_S', '40'));
const WINDOW_S = Number(env('BENCH_WINDOW_S', '60'));
const PROFILE = env('BENCH_PROFILE', '') === '1';
/** BENCH_LOG_DIR: each node's stdout and stderr go to <dir>/<config>/n<i>.log (e.g. with LOG_LEVEL=log) */
const LOG_DIR = env('BENCH_LOG_DIR', '');
/** BENCH_NODE_ENV="K=V,K2=V2": extra settings for every node (e.g. RAFT_ELECTION_TIMEOUT_MS=1000) */
const NODE_ENV_EXTRA: Record<string, string> = Object.fromEntries(
  env('BENCH_NODE_ENV', '')
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const RESULTS = env('BENCH_RESULTS', 'bench/RESULTS.md');
/** another checkout's built tree (e.g. the code before a change), default this one */
const APP_ROOT = resolve(env('BENCH_ROOT', ROOT));
const INTERVAL_MS = 20_000;
/** booting with 10,000+ sites on a saturated machine is slow */
const READY_TIMEOUT_MS = 300_000;
/** after the window: how long the projection may take to catch up once every site is paused */
const DRAIN_TIMEOUT_MS = 120_000;
const TICKS = 100; // clock ticks per second (/proc stat unit)
const caller = new ClusterCaller();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 (utime, stime) are 12 and 13 after the command name
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
  } catch {
    return 0;
  }
}

function rssMbOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** A minimal HTTP target in its own process, so its CPU is nobody's. */
async function startTarget(): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      '-e',
      `require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'text/plain'});s.end('ok')}).listen(${port},'127.0.0.1',()=>console.log('up'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((r) => proc.stdout.once('data', () => r()));
  return { proc, url: `http://127.0.0.1:${port}/health` };
}

interface BenchNode {
  proc: ChildProcess;
  baseUrl: string;
  waitReady(timeoutMs: number): Promise<void>;
  stop(signal: NodeJS.Signals): Promise<void>;
}

/** dist/main.js as its own process; with a profile dir, under --cpu-prof (written at exit). */
function startNode(spec: ClusterNodeSpec, profileDir?: string, logFile?: string): BenchNode {
  const args = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const proc = spawn(
    process.execPath,
    [...NODE_FLAGS, ...args, join(APP_ROOT, 'dist', 'main.js')],
    {
      cwd: APP_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...spec.env },
      stdio: ['ignore', logFile ? 'pipe' : 'ignore', 'pipe'],
    },
  );
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4_000)));
  if (logFile) {
    const out = createWriteStream(logFile);
    proc.stdout!.pipe(out);
    proc.stderr!.pipe(out);
  }
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let dead = false;
  void exited.then(() => (dead = true));
  const baseUrl = `http://127.0.0.1:${spec.port}`;
  return {
    proc,
    baseUrl,
    async waitReady(timeoutMs) {
      const t0 = Date.now();
      while (Date.now() - t0 < timeoutMs) {
        if (dead) throw new Error(`node exited before ready: ${err}`);
        const ok = await fetch(`${baseUrl}/health/ready`)
          .then((r) => r.status === 200)
          .catch(() => false);
        if (ok) return;
        await sleep(200);
      }
      throw new Error(`node not ready within ${timeoutMs} ms: ${err}`);
    },
    async stop(signal) {
      if (!dead) proc.kill(signal);
      await exited;
    },
  };
}

interface Row {
  /** set when the configuration could not be measured */
  failed?: string;
  nodes: number;
  sites: number;
  expectedChecks: number;
  checksPerSec: number;
  /** ping_logs rows stored per second */
  logsPerSec: number;
  /** decisions committed (applied by the leader's status machine) per second */
  committedPerSec: number;
  /** Raft entries committed per second */
  entriesPerSec: number;
  projectedPerSec: number;
  lagP50: number;
  lagP99: number;
  cpuPerSiteRound: number[];
  /** node CPU per check it actually ran (checks/s fall short when the machine is saturated) */
  cpuPerCheckDone: number[];
  pgPerSiteRoundPerNode: number;
  rssMb: number[];
  /** after the drain: `decisions` rows / decisions the leader applied */
  rowsVsCommitted: string;
  /** Raft term at the end of the window minus at its start (elections in the window) */
  termsInWindow: number;
  /** Raft requests between nodes that failed in the window (timeouts, refusals), of all sent */
  raftFailedShare: number;
  profileTop?: string[];
}

async function runConfig(nodesCount: number, sites: number, targetUrl: string): Promise<Row> {
  const db = await createTestDatabase();
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const root = mkdtempSync(join(tmpdir(), 'bench-capacity-'));
  const profileDir = resolve(
    env('BENCH_PROFILE_DIR', join(tmpdir(), 'bench-capacity-profiles')),
    `${nodesCount}x${sites}`,
  );
  let nodes: BenchNode[] = [];
  try {
    const owner = await pg.query<{ id: string }>(
      "INSERT INTO users (id, email, password_hash, updated_at) VALUES (gen_random_uuid(), 'capacity@bench.test', 'x', now()) RETURNING id",
    );
    await pg.query(
      `INSERT INTO websites (id, owner_id, name, url, interval_ms, timeout_ms, expected_status, updated_at)
       SELECT gen_random_uuid(), $1, 'site-' || g, $2, $3, 5000, '{}', now() FROM generate_series(1, $4) g`,
      [owner.rows[0].id, targetUrl, INTERVAL_MS, sites],
    );
    const majority = Math.floor(nodesCount / 2) + 1;
    const specs = await planCluster(nodesCount, (i) => join(root, `n${i + 1}`), {
      DATABASE_URL: db.url,
      PING_INTERVAL_MS: String(INTERVAL_MS),
      PING_TIMEOUT_MS: '5000',
      PING_CONCURRENCY: '512',
      MIN_VOTES: String(majority),
      ALLOW_PRIVATE_TARGETS: 'true',
      LOG_LEVEL: 'warn',
      ...NODE_ENV_EXTRA,
    });
    if (PROFILE) {
      rmSync(profileDir, { recursive: true, force: true });
      mkdirSync(profileDir, { recursive: true });
    }
    const logDir = LOG_DIR ? resolve(LOG_DIR, `${nodesCount}x${sites}`) : '';
    if (logDir) mkdirSync(logDir, { recursive: true });
    nodes = specs.map((spec, i) =>
      startNode(
        spec,
        PROFILE ? profileDir : undefined,
        logDir ? join(logDir, `n${i + 1}.log`) : undefined,
      ),
    );
    await Promise.all(nodes.map((n) => n.waitReady(READY_TIMEOUT_MS)));
    await sleep(WARMUP_S * 1000);

    const leaderStatus = async () => {
      for (const n of nodes) {
        try {
          const r = await caller.get<{ role: string; commitIndex: number; term: number }>(
            n.baseUrl,
            '/api/raft/status',
            2_000,
          );
          if (r.status === 200 && r.body.role === 'leader') return r.body;
        } catch {
          // try the next
        }
      }
      return null;
    };
    const count = async (table: string) =>
      Number((await pg.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0].n);
    const pgPids = async () =>
      (
        await pg.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        )
      ).rows.map((r) => r.pid);

    /** every node's Raft transport counters: requests sent and failed (timeouts, refusals) */
    const transport = async () => {
      let batches = 0;
      let failed = 0;
      for (const n of nodes) {
        try {
          const r = await caller.get<{
            transport?: { peers?: Record<string, { batches: number; failed: number }> };
          }>(n.baseUrl, '/api/raft/status', 2_000);
          for (const p of Object.values(r.body.transport?.peers ?? {})) {
            batches += p.batches;
            failed += p.failed;
          }
        } catch {
          // a node that does not answer adds nothing
        }
      }
      return { batches, failed };
    };
    /** checks every node ran (its ping_checks_total), whether or not their logs got stored */
    const checksRun = async () => {
      let n = 0;
      for (const node of nodes) {
        const text = await fetch(`${node.baseUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })
          .then((r) => r.text())
          .catch(() => '');
        for (const m of text.matchAll(/^ping_checks_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm))
          n += Number(m[1]);
      }
      return n;
    };
    const probeSite = (
      await pg.query<{ id: string }>('SELECT id::text AS id FROM websites LIMIT 1')
    ).rows[0].id;
    /** the leader's committed decisions (its status machine's count) and projection cursor */
    const decisionsStatus = async () => {
      for (const n of nodes) {
        try {
          const r = await caller.get<{
            node: { role: string; commitIndex: number };
            machine: { decided?: number };
            projector: { lastIndex: number | null };
          }>(n.baseUrl, `/api/consensus/status/${probeSite}`, 5_000);
          if (r.status === 200 && r.body.node.role === 'leader')
            return {
              commitIndex: r.body.node.commitIndex,
              decided: r.body.machine.decided ?? NaN,
              projectedThrough: r.body.projector.lastIndex ?? 0,
            };
        } catch {
          // try the next
        }
      }
      return null;
    };
    const tr0 = await transport();
    const checks0 = await checksRun();
    const d0 = await decisionsStatus();
    const l0 = await leaderStatus();
    const logs0 = await count('ping_logs');
    const dec0 = await count('decisions');
    let lastId = Number(
      (await pg.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM decisions'))
        .rows[0].id,
    );
    const cpu0 = nodes.map((n) => cpuMsOf(n.proc.pid!));
    const pgCpu0 = new Map((await pgPids()).map((p) => [p, cpuMsOf(p)]));
    const lags: number[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < WINDOW_S * 1000) {
      await sleep(500);
      const r = await pg.query<{ id: string; lag: number }>(
        'SELECT id::text, extract(epoch FROM (now() - decided_at)) * 1000 AS lag FROM decisions WHERE id > $1 ORDER BY id',
        [lastId],
      );
      for (const row of r.rows) {
        lags.push(Number(row.lag));
        lastId = Math.max(lastId, Number(row.id));
      }
      for (const p of await pgPids()) if (!pgCpu0.has(p)) pgCpu0.set(p, 0);
    }
    const seconds = (Date.now() - t0) / 1000;
    const cpu1 = nodes.map((n) => cpuMsOf(n.proc.pid!));
    let pgCpu = 0;
    for (const [p, c0] of pgCpu0) pgCpu += Math.max(0, cpuMsOf(p) - c0);
    const l1 = await leaderStatus();
    const d1 = await decisionsStatus();
    const checks1 = await checksRun();
    const tr1 = await transport();
    const logs1 = await count('ping_logs');
    const dec1 = await count('decisions');
    const siteRounds = (sites * seconds * 1000) / INTERVAL_MS;
    lags.sort((a, b) => a - b);
    // Drain: pause every site, let the last rounds commit and the projection catch up, then
    // compare the rows with the decisions the leader's status machine applied.
    await pg.query('UPDATE websites SET paused = true, updated_at = now()');
    let drained: { decided: number; rows: number } | null = null;
    let last = '';
    let same = 0;
    const drainStart = Date.now();
    while (Date.now() - drainStart < DRAIN_TIMEOUT_MS) {
      await sleep(1_000);
      const d = await decisionsStatus();
      if (!d) continue;
      const key = `${d.commitIndex}/${d.decided}/${d.projectedThrough}`;
      same = key === last ? same + 1 : 0;
      last = key;
      if (same >= 5 && d.projectedThrough >= d.commitIndex - 1) {
        drained = { decided: d.decided, rows: await count('decisions') };
        break;
      }
    }
    const row: Row = {
      nodes: nodesCount,
      sites,
      expectedChecks: (nodesCount * sites * 1000) / INTERVAL_MS,
      checksPerSec: (checks1 - checks0) / seconds,
      logsPerSec: (logs1 - logs0) / seconds,
      committedPerSec: d0 && d1 ? (d1.decided - d0.decided) / seconds : NaN,
      entriesPerSec: l0 && l1 ? (l1.commitIndex - l0.commitIndex) / seconds : NaN,
      projectedPerSec: (dec1 - dec0) / seconds,
      lagP50: percentile(lags, 50),
      lagP99: percentile(lags, 99),
      cpuPerSiteRound: cpu1.map((c, i) => (c - cpu0[i]) / siteRounds),
      cpuPerCheckDone: cpu1.map(
        (c, i) => (c - cpu0[i]) / Math.max(1, (checks1 - checks0) / nodesCount),
      ),
      pgPerSiteRoundPerNode: pgCpu / siteRounds / nodesCount,
      rssMb: nodes.map((n) => rssMbOf(n.proc.pid!)),
      rowsVsCommitted: drained ? `${drained.rows} / ${drained.decided}` : 'not drained',
      termsInWindow: l0 && l1 ? l1.term - l0.term : NaN,
      raftFailedShare:
        tr1.batches > tr0.batches ? (tr1.failed - tr0.failed) / (tr1.batches - tr0.batches) : NaN,
    };
    await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
    nodes = [];
    if (PROFILE) {
      const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
      row.profileTop = files.flatMap((f, i) => [
        `node ${i + 1} (${f}):`,
        ...topOfProfile(join(profileDir, f), 15),
      ]);
    }
    return row;
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await pg.end().catch(() => undefined);
    await db.drop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const target = await startTarget();
  const rows: Row[] = [];
  try {
    for (const [n, sites] of CONFIGS) {
      process.stderr.write(`capacity: ${n} node(s), ${sites} sites...\n`);
      const row = await runConfig(n, sites, target.url).catch((e: unknown): Row => ({
        failed: ((e as Error).message || String(e)).split('\n')[0].slice(0, 200),
        nodes: n,
        sites,
        expectedChecks: (n * sites * 1000) / INTERVAL_MS,
        checksPerSec: NaN,
        logsPerSec: NaN,
        committedPerSec: NaN,
        entriesPerSec: NaN,
        projectedPerSec: NaN,
        lagP50: NaN,
        lagP99: NaN,
        cpuPerSiteRound: [],
        cpuPerCheckDone: [],
        pgPerSiteRoundPerNode: NaN,
        rssMb: [],
        rowsVsCommitted: '-',
        termsInWindow: NaN,
        raftFailedShare: NaN,
      }));
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
  } finally {
    target.proc.kill('SIGTERM');
  }
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const lines = [
    `## bench:capacity — ${new Date().toISOString()}`,
    '',
    machineFacts(),
    `Real node processes (${APP_ROOT === ROOT ? 'dist/main.js of this tree' : `${APP_ROOT}/dist/main.js`}) on 127.0.0.1, one PostgreSQL, in-process events; N sites at 20 s`,
    `(timeout 5 s, MIN_VOTES = majority) on one local HTTP target in its own process. Warm-up ${WARMUP_S} s,`,
    `then a ${WINDOW_S} s window. CPU is utime+stime from /proc per process over the window; PostgreSQL is`,
    `every backend of the bench database, divided by the nodes. Checks are every node's ping_checks_total;`,
    `decisions committed are the leader's status machine's count, entries its commitIndex. After the`,
    `window every site is paused and, once the projection has caught up, the decision rows are compared`,
    `with the decisions committed. Node settings: ${JSON.stringify(NODE_ENV_EXTRA)}. The machine is`,
    `shared with other helpers' test runs (see load average).`,
    '',
    '| nodes | sites | checks/s (expected) | ping logs stored/s | decisions committed/s (entries/s) | projected/s | projection lag p50 / p99 ms | rows / committed decisions after drain | CPU ms per site-round per node | CPU ms per check done | PostgreSQL ms per site-round per node | RSS MB | new terms | Raft requests failed |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|---:|---:|',
    ...rows.map((r) =>
      r.failed
        ? `| ${r.nodes} | ${r.sites} | not measured: ${r.failed} ||||||||||||`
        : `| ${r.nodes} | ${r.sites} | ${f(r.checksPerSec, 0)} (${f(r.expectedChecks, 0)}) | ${f(r.logsPerSec, 0)} | ${f(r.committedPerSec)} (${f(r.entriesPerSec)}) | ${f(r.projectedPerSec)} | ${f(r.lagP50, 0)} / ${f(r.lagP99, 0)} | ${r.rowsVsCommitted} | ${r.cpuPerSiteRound.map((c) => f(c, 2)).join(' / ')} | ${r.cpuPerCheckDone.map((c) => f(c, 2)).join(' / ')} | ${f(r.pgPerSiteRoundPerNode, 2)} | ${r.rssMb.map((m) => f(m, 0)).join(' / ')} | ${f(r.termsInWindow, 0)} | ${f(r.raftFailedShare * 100, 0)} % |`,
    ),
    '',
  ];
  for (const r of rows)
    if (r.profileTop)
      lines.push(
        `Profile, ${r.nodes}x${r.sites} (self time, top 15 per node):`,
        '',
        '```',
        ...r.profileTop,
        '```',
        '',
      );
  recordResults(RESULTS, lines.join('\n'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
