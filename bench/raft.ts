/**
 * bench:raft: a 3-node cluster of real processes on 127.0.0.1 (real HTTP, real
 * fsync), writes through the leader's /api/raft/kv at 1, 16 and 128 concurrent
 * proposers; then the same against a 3-member etcd (its HTTP/JSON gateway,
 * default settings, fsync on) when `etcd` is on PATH (installed from the Debian
 * package `etcd-server` where missing), same levels, same keys and values, and
 * the ratios. Then the write gap when the leader gets SIGTERM and SIGKILL,
 * for both, with every acknowledged write checked on every member afterwards.
 * Results into bench/RESULTS.md.
 * Env: BENCH_DURATION_S (20 per level), BENCH_LEVELS ("1,16,128"), BENCH_RESULTS,
 * BENCH_PARTS ("throughput,failover"), BENCH_ETCD (0: skip etcd), BENCH_ETCD_INSTALL (0: don't install),
 * BENCH_PROFILE (a directory: CPU profiles of the nodes; the leader's top entries are printed),
 * BENCH_GAP_SIGNALS ("SIGTERM,SIGKILL"), BENCH_LOG_LEVEL (info: every node's Raft events after each signal),
 * BENCH_TRACE (a directory: the nodes stamp each write's path there, RAFT_TRACE_DIR; the
 * throughput part prints the per-step timeline; best with BENCH_LEVELS=1).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ClusterCaller, ClusterNodeSpec, planCluster, startSpec } from '../test/support/cluster';
import { createTestDatabase } from '../test/support/db';
import { NodeProcess } from '../test/support/node-process';
import {
  EtcdMember,
  ensureEtcd,
  etcdIsLeader,
  etcdLocalKeys,
  etcdPut,
  restartEtcd,
  startEtcdCluster,
  stopEtcd,
} from './support/etcd';
import { topOfProfile } from './support/cpu-profile';
import { writeTimeline } from './support/write-timeline';
import { clientCpuMs, postJson } from './support/http-client';
import { machineFacts, percentile, recordResults } from './support/results';
import { GapResult, GapTarget, measureGap } from './support/write-gap';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 20);
const LEVELS = (process.env.BENCH_LEVELS ?? '1,16,128').split(',').map(Number);
const RESULTS = process.env.BENCH_RESULTS ?? 'bench/RESULTS.md';
const PARTS = (process.env.BENCH_PARTS ?? 'throughput,failover').split(',');
/** a directory: each node writes <pid>.cpuprofile there at exit; the leader's top is printed */
const PROFILE_DIR = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : undefined;
/** the failover part's signals, in order */
const SIGNALS = (process.env.BENCH_GAP_SIGNALS ?? 'SIGTERM,SIGKILL').split(',') as NodeJS.Signals[];
/** print every node's Raft events after each signal (needs BENCH_LOG_LEVEL=info) */
const TIMELINE = ['info', 'debug'].includes(process.env.BENCH_LOG_LEVEL ?? '');
/** a directory for the nodes' per-write stamps (RAFT_TRACE_DIR) */
const TRACE_DIR = process.env.BENCH_TRACE ? resolve(process.env.BENCH_TRACE) : undefined;
const caller = new ClusterCaller();

type Put = (worker: number, i: number) => Promise<boolean>;

/** CPU seconds a process used so far (user + system, from /proc; 0 where unavailable). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return 0;
  }
}

/** Runs a level and charges the servers' CPU to it: a figure a busy machine distorts less. */
async function measured(
  pids: (number | undefined)[],
  run: () => Promise<LevelResult>,
): Promise<LevelResult> {
  const before = pids.map(cpuSeconds);
  const client0 = clientCpuMs();
  const r = await run();
  let cpu = 0;
  pids.forEach((pid, i) => (cpu += cpuSeconds(pid) - before[i]));
  return {
    ...r,
    cpuMsPerOp: (cpu * 1000) / Math.max(1, r.n),
    clientCpuMsPerOp: (clientCpuMs() - client0) / Math.max(1, r.n),
  };
}

interface LevelResult {
  /** CPU ms all three servers spent per acknowledged write, and the bench client */
  cpuMsPerOp?: number;
  clientCpuMsPerOp?: number;
  /** the leader's group commit and coalescing during the level (ours only) */
  pipeline?: PipelineStats;
  proposers: number;
  perSec: number;
  p50: number;
  p99: number;
  n: number;
  errors: number;
}

/** Same keys (one per proposer) and values (the proposer's counter) for both systems. */
async function runLevel(put: Put, proposers: number, seconds = DURATION_S): Promise<LevelResult> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + seconds * 1000;
  const worker = async (w: number) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const t0 = performance.now();
      try {
        if (await put(w, i)) latencies.push(performance.now() - t0);
        else errors += 1;
      } catch {
        errors += 1;
      }
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: proposers }, (_, w) => worker(w)));
  const elapsed = (Date.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    proposers,
    perSec: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    n: latencies.length,
    errors,
  };
}

// ---- this project's cluster ----

interface OurCluster {
  specs: ClusterNodeSpec[];
  nodes: NodeProcess[];
  close(): Promise<void>;
}

async function startOurs(root: string, dbUrl: string): Promise<OurCluster> {
  const specs = await planCluster(3, (i) => join(root, `n${i + 1}`), {
    DATABASE_URL: dbUrl,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error',
    // NODE_OPTIONS refuses --cpu-prof: the profiler is preloaded instead (BENCH_PROFILE).
    ...(PROFILE_DIR
      ? {
          NODE_OPTIONS: `--require ${join(__dirname, '..', 'scripts', 'cpu-profiler.js')}`,
          RAFT_PROFILE_DIR: PROFILE_DIR,
        }
      : {}),
    ...(TRACE_DIR ? { RAFT_TRACE_DIR: TRACE_DIR } : {}),
  });
  const nodes = await Promise.all(specs.map(startSpec));
  try {
    await Promise.all(nodes.map((n) => n.waitReady(60_000)));
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL').catch(() => undefined)));
    throw e;
  }
  const cluster: OurCluster = {
    specs,
    nodes,
    close: () =>
      Promise.all(cluster.nodes.map((n) => n.stop('SIGTERM').catch(() => undefined))).then(
        () => undefined,
      ),
  };
  return cluster;
}

async function ourLeader(c: OurCluster): Promise<NodeProcess> {
  for (let i = 0; i < 400; i++) {
    for (const n of c.nodes) {
      const r = await caller.get<{ role: string }>(n.baseUrl, '/api/raft/status').catch(() => null);
      if (r?.body.role === 'leader') return n;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no leader');
}

interface PipelineStats {
  /** the leader's term: a rise during a level means elections under load */
  term: number;
  writes: number;
  entriesWritten: number;
  batches: number;
  messages: number;
}

async function pipelineStats(leader: NodeProcess): Promise<PipelineStats> {
  const r = await caller.get<{
    term: number;
    transport: {
      driver: { writes: number; entriesWritten: number } | null;
      peers: Record<
        string,
        { batches: number; messages: number; streamFrames?: number; streamMessages?: number }
      >;
    };
  }>(leader.baseUrl, '/api/raft/status');
  const t = r.body.transport;
  const peers = Object.values(t.peers);
  return {
    term: r.body.term,
    writes: t.driver?.writes ?? 0,
    entriesWritten: t.driver?.entriesWritten ?? 0,
    // frames to followers: requests and stream frames alike
    batches: peers.reduce((n, p) => n + p.batches + (p.streamFrames ?? 0), 0),
    messages: peers.reduce((n, p) => n + p.messages + (p.streamMessages ?? 0), 0),
  };
}

function diffStats(a: PipelineStats, b: PipelineStats): PipelineStats {
  return {
    term: b.term - a.term,
    writes: b.writes - a.writes,
    entriesWritten: b.entriesWritten - a.entriesWritten,
    batches: b.batches - a.batches,
    messages: b.messages - a.messages,
  };
}

function ourGapTarget(c: OurCluster): GapTarget {
  const byAddress = new Map(c.specs.map((s, i) => [s.address, i]));
  let stoppedAt = 0;
  return {
    name: 'this project',
    members: 3,
    async put(member, writer, token) {
      const r = await caller.post<{ message?: string }>(
        c.nodes[member].baseUrl,
        '/api/raft/kv',
        { op: 'append', key: `gap-w${writer}`, value: `${token},` },
        3_000,
      );
      if (r.status === 200) return { ok: true };
      const hint = /leader: (\S+)/.exec(r.body?.message ?? '')?.[1];
      return { ok: false, hint: hint !== undefined ? byAddress.get(hint) : undefined };
    },
    async isLeader(member) {
      const r = await caller
        .get<{ role: string }>(c.nodes[member].baseUrl, '/api/raft/status', 1_000)
        .catch(() => null);
      return r?.body.role === 'leader';
    },
    async stop(member, signal) {
      stoppedAt = Date.now();
      await c.nodes[member].stop(signal);
    },
    async restart(member) {
      // With BENCH_LOG_LEVEL=info: the Raft events of every node after the signal.
      if (TIMELINE) process.stdout.write(timeline(c, member, stoppedAt));
      c.nodes[member] = await startSpec(c.specs[member]);
      await c.nodes[member].waitReady(60_000);
    },
    async tokens(member, writers) {
      const out = new Set<string>();
      for (let w = 0; w < writers; w++) {
        const r = await caller.post<{ value: string | null }>(
          c.nodes[member].baseUrl,
          '/api/raft/kv/local',
          { key: `gap-w${w}` },
        );
        for (const t of (r.body.value ?? '').split(',')) if (t) out.add(t);
      }
      return out;
    },
  };
}

/** The Raft and shutdown log lines of every node from the signal on, as "+ms node message". */
function timeline(c: OurCluster, stopped: number, at: number): string {
  const rows: { t: number; line: string }[] = [];
  c.nodes.forEach((n, i) => {
    for (const raw of n.output().split('\n')) {
      let e: { time?: number; context?: string; msg?: string };
      try {
        e = JSON.parse(raw) as typeof e;
      } catch {
        continue;
      }
      if (!e.time || e.time < at || e.time > at + 5_000) continue;
      if (e.context !== 'Raft' && e.context !== 'Shutdown') continue;
      const who = i === stopped ? `n${i + 1} (stopped)` : `n${i + 1}`;
      rows.push({ t: e.time - at, line: `+${e.time - at} ms ${who}: ${e.msg}` });
    }
  });
  rows.sort((a, b) => a.t - b.t);
  return `timeline after the signal:\n${rows.map((r) => `  ${r.line}`).join('\n')}\n`;
}

/** Stops the leader's sampling (scripts/cpu-profiler.js) and prints the profile's top entries. */
async function printProfile(leader: NodeProcess, level: number): Promise<void> {
  const before = new Set(readdirSync(PROFILE_DIR!));
  leader.proc.kill('SIGUSR2');
  for (let i = 0; i < 200; i++) {
    const file = readdirSync(PROFILE_DIR!).find(
      (f) => !before.has(f) && f.startsWith(`${leader.proc.pid}-`),
    );
    if (file) {
      await new Promise((r) => setTimeout(r, 200)); // written synchronously, but let it finish
      const top = topOfProfile(join(PROFILE_DIR!, file), 20);
      process.stdout.write(`leader at ${level} proposers (${file}):\n${top.join('\n')}\n`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  process.stdout.write(`no profile from the leader at ${level} proposers\n`);
}

// ---- etcd ----

async function etcdLeader(members: EtcdMember[]): Promise<EtcdMember> {
  for (let i = 0; i < 400; i++) {
    for (const m of members) if (await etcdIsLeader(m)) return m;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no etcd leader');
}

function etcdGapTarget(members: EtcdMember[]): GapTarget {
  return {
    name: 'etcd',
    members: 3,
    async put(member, writer, token) {
      return { ok: await etcdPut(members[member], `gap/w${writer}/${token}`, '1', 3_000) };
    },
    isLeader: (member) => etcdIsLeader(members[member]),
    async stop(member, signal) {
      members[member].proc.kill(signal);
      await members[member].exited;
    },
    async restart(member) {
      members[member] = await restartEtcd(members[member]);
    },
    async tokens(member) {
      const keys = await etcdLocalKeys(members[member], 'gap/');
      return new Set([...keys].map((k) => k.split('/')[2]));
    },
  };
}

// ---- report ----

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '—');

function pipe(r: LevelResult): string {
  const p = r.pipeline;
  if (!p) return '— | — | —';
  return `${f1(p.entriesWritten / Math.max(1, p.writes))} | ${f1(p.messages / Math.max(1, p.batches))} | ${p.term}`;
}

function throughputTable(ours: LevelResult[], etcd: LevelResult[] | null, version: string | null) {
  const lines = [
    `3 nodes as separate processes on 127.0.0.1, log fsynced before every reply that depends on it;`,
    `client: signed POST /api/raft/kv (put, key per proposer, value = its counter) to the leader,`,
    `keep-alive connections, ${DURATION_S} s per level. Latency is client-observed: request → committed`,
    `on a majority → applied on the leader → response.` +
      (etcd
        ? ` etcd ${version}: 3 members on 127.0.0.1, default settings (fsync on),` +
          ` POST /v3/kv/put to the leader through its HTTP/JSON gateway, same keys, values and levels.`
        : ' etcd: not run (not on PATH).'),
    '',
  ];
  if (!etcd) {
    lines.push(
      '| proposers | proposals/s | commit p50 ms | commit p99 ms | proposals | errors | server CPU ms per write | leader entries per fsync | messages per frame to followers | elections (term rise) |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...ours.map(
        (r) =>
          `| ${r.proposers} | ${r.perSec.toFixed(0)} | ${f1(r.p50)} | ${f1(r.p99)} | ${r.n} | ${r.errors} | ${f2(r.cpuMsPerOp ?? NaN)} | ${pipe(r)} |`,
      ),
    );
    return lines;
  }
  lines.push(
    '| proposers | ours/s | etcd/s | ratio ours/etcd | ours p50 ms | ours p99 ms | etcd p50 ms | etcd p99 ms | p99 ratio ours/etcd | errors ours/etcd | server CPU ms per write ours/etcd | client CPU ms per write ours/etcd | leader entries per fsync | messages per frame to followers | elections (term rise) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...ours.map((r, k) => {
      const e = etcd[k];
      return (
        `| ${r.proposers} | ${r.perSec.toFixed(0)} | ${e.perSec.toFixed(0)} | ${f2(r.perSec / e.perSec)}× ` +
        `| ${f1(r.p50)} | ${f1(r.p99)} | ${f1(e.p50)} | ${f1(e.p99)} | ${f2(r.p99 / e.p99)}× | ${r.errors}/${e.errors} ` +
        `| ${f2(r.cpuMsPerOp ?? NaN)}/${f2(e.cpuMsPerOp ?? NaN)} ` +
        `| ${f2(r.clientCpuMsPerOp ?? NaN)}/${f2(e.clientCpuMsPerOp ?? NaN)} | ${pipe(r)} |`
      );
    }),
  );
  return lines;
}

function gapTable(gaps: GapResult[]): string[] {
  return [
    '',
    'Write gap when the leader is stopped: 16 writers stream unique tokens (following redirects);',
    'largest gap between consecutive acknowledged writes from 200 ms before the signal to 5 s after;',
    'then the stopped member restarts and every acknowledged token is looked up on every member.',
    '',
    '| system | signal | largest write gap ms | first ack elsewhere after ms | acknowledged | missing afterwards |',
    '|---|---|---:|---:|---:|---:|',
    ...gaps.map(
      (g) =>
        `| ${g.target} | ${g.signal} | ${f1(g.largestGapMs)} | ${f1(g.firstAckAfterMs)} | ${g.acked} | ${g.missing} |`,
    ),
  ];
}

async function main(): Promise<void> {
  const version = process.env.BENCH_ETCD === '0' ? null : ensureEtcd();
  // One database per cluster: a fresh cluster's validator keys differ from the last one's.
  const db = await createTestDatabase();
  const gapDb = await createTestDatabase();
  const root = mkdtempSync(join(tmpdir(), 'bench-raft-'));
  const facts = machineFacts();
  const ours: LevelResult[] = [];
  let etcd: LevelResult[] | null = null;
  const gaps: GapResult[] = [];
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  if (TRACE_DIR) mkdirSync(TRACE_DIR, { recursive: true });
  try {
    if (PARTS.includes('throughput')) {
      const c = await startOurs(join(root, 'tp'), db.url);
      try {
        const leader = await ourLeader(c);
        const put: Put = async (w, i) =>
          (
            await postJson(
              leader.baseUrl,
              '/api/raft/kv',
              { op: 'put', key: `k${w}`, value: String(i) },
              { sign: true },
            )
          ).status === 200;
        await runLevel(put, 4, 3); // warm-up: JIT, connection pools
        for (const level of LEVELS) {
          const before = await pipelineStats(leader);
          if (PROFILE_DIR) leader.proc.kill('SIGUSR2'); // start sampling
          const r = await measured(
            c.nodes.map((n) => n.proc.pid),
            () => runLevel(put, level),
          );
          const after = await pipelineStats(leader);
          if (PROFILE_DIR) await printProfile(leader, level);
          ours.push({ ...r, pipeline: diffStats(before, after) });
        }
      } finally {
        await c.close();
      }
      if (TRACE_DIR)
        process.stdout.write(`write timeline (all levels):\n${writeTimeline(TRACE_DIR)}\n`);
      if (version) {
        const members = await startEtcdCluster(join(root, 'etcd-tp'));
        try {
          const leader = await etcdLeader(members);
          const put: Put = (w, i) => etcdPut(leader, `k${w}`, String(i));
          await runLevel(put, 4, 3);
          etcd = [];
          for (const level of LEVELS)
            etcd.push(
              await measured(
                members.map((m) => m.proc.pid),
                () => runLevel(put, level),
              ),
            );
        } finally {
          await stopEtcd(members);
        }
      }
    }
    if (PARTS.includes('failover')) {
      const c = await startOurs(join(root, 'gap'), gapDb.url);
      try {
        const t = ourGapTarget(c);
        for (const signal of SIGNALS) gaps.push(await measureGap(t, signal, { afterMs: 5_000 }));
      } finally {
        await c.close();
      }
      if (version) {
        const members = await startEtcdCluster(join(root, 'etcd-gap'));
        try {
          const t = etcdGapTarget(members);
          for (const signal of SIGNALS) gaps.push(await measureGap(t, signal));
        } finally {
          await stopEtcd(members);
        }
      }
    }
    const section = [`## bench:raft — ${new Date().toISOString()}`, '', facts];
    if (ours.length > 0) section.push(...throughputTable(ours, etcd, version));
    if (gaps.length > 0) section.push(...gapTable(gaps));
    section.push('');
    recordResults(RESULTS, section.join('\n'));
  } finally {
    await db.drop();
    await gapDb.drop();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:raft failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
