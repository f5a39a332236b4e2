/**
 * bench:raft: a 3-node cluster of real processes on 127.0.0.1 (real HTTP, real
 * fsync), writes through the leader's /api/raft/kv at 1, 16 and 128 concurrent
 * proposers; reports proposals/s and commit latency p50/p99 into bench/RESULTS.md.
 * Env: BENCH_DURATION_S (20 per level), BENCH_LEVELS ("1,16,128"), BENCH_RESULTS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterCaller, planCluster, startSpec } from '../test/support/cluster';
import { createTestDatabase } from '../test/support/db';
import { NodeProcess } from '../test/support/node-process';
import { machineFacts, percentile, recordResults } from './support/results';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 20);
const LEVELS = (process.env.BENCH_LEVELS ?? '1,16,128').split(',').map(Number);
const RESULTS = process.env.BENCH_RESULTS ?? 'bench/RESULTS.md';
const caller = new ClusterCaller();

async function findLeader(nodes: NodeProcess[]): Promise<NodeProcess> {
  for (let i = 0; i < 200; i++) {
    for (const n of nodes) {
      const r = await caller.get<{ role: string }>(n.baseUrl, '/api/raft/status').catch(() => null);
      if (r?.body.role === 'leader') return n;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no leader');
}

async function runLevel(leader: NodeProcess, proposers: number) {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + DURATION_S * 1000;
  const worker = async (w: number) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const t0 = performance.now();
      try {
        const r = await caller.post(leader.baseUrl, '/api/raft/kv', {
          op: 'put',
          key: `k${w}`,
          value: String(i),
        });
        if (r.status === 200) latencies.push(performance.now() - t0);
        else errors += 1;
      } catch {
        errors += 1;
      }
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: proposers }, (_, w) => worker(w)));
  const seconds = (Date.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    proposers,
    perSec: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    n: latencies.length,
    errors,
  };
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const root = mkdtempSync(join(tmpdir(), 'bench-raft-'));
  const specs = await planCluster(3, (i) => join(root, `n${i + 1}`), {
    DATABASE_URL: db.url,
    LOG_LEVEL: 'error',
  });
  const nodes = await Promise.all(specs.map(startSpec));
  try {
    await Promise.all(nodes.map((n) => n.waitReady(60_000)));
    const leader = await findLeader(nodes);
    await runLevel(leader, 4); // warm-up: JIT, connection pools
    const rows = [];
    for (const level of LEVELS) rows.push(await runLevel(leader, level));
    const table = [
      `## bench:raft — ${new Date().toISOString()}`,
      '',
      machineFacts(),
      `3 nodes as separate processes on 127.0.0.1, HMAC-signed HTTP between them, log fsynced before every`,
      `reply that depends on it; client: signed POST /api/raft/kv (put) to the leader, ${DURATION_S} s per level.`,
      `Latency is client-observed: request → committed on a majority → applied on the leader → response.`,
      '',
      '| proposers | proposals/s | commit p50 ms | commit p99 ms | proposals | errors |',
      '|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.proposers} | ${r.perSec.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.n} | ${r.errors} |`,
      ),
      '',
    ].join('\n');
    recordResults(RESULTS, table);
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGTERM').catch(() => undefined)));
    await db.drop();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:raft failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
