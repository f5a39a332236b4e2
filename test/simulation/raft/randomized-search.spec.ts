import { cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SEARCH_CHAOS_MS, type SeedOutcome, runSearchSeed } from './support/search-seed';

/**
 * Randomized search: many seeds of a 5-node cluster under random partitions,
 * crashes, restarts, lossy/duplicating/reordering network phases and
 * leadership transfers, while clients read (ReadIndex, on leaders and
 * followers) and write (put/append) a KV map. Every seed checks Raft's safety
 * properties on every step, a leader within 5 s of healing, and the
 * linearizability of the whole client history.
 *
 *   RAFT_SEEDS=<n>             how many seeds (default 1000)
 *   RAFT_SEED_BASE=<n>|random  first seed (default 1; "random" draws one and prints it)
 *   RAFT_SEED=<n>              replay one seed, in-process (debuggable)
 *   RAFT_SEARCH_THREADS=<n>    worker threads (default: one per core, at most 4; 0 = in-process)
 */
function seedList(): number[] {
  if (process.env.RAFT_SEED) return [Number(process.env.RAFT_SEED) >>> 0];
  const count = Number(process.env.RAFT_SEEDS ?? '1000');
  const raw = process.env.RAFT_SEED_BASE ?? '1';
  const base = raw === 'random' ? Date.now() % 2 ** 31 : Number(raw);
  return Array.from({ length: count }, (_, i) => (base + i) >>> 0);
}

function threadCount(seeds: number): number {
  if (process.env.RAFT_SEED) return 0;
  const env = process.env.RAFT_SEARCH_THREADS;
  const n = env !== undefined ? Number(env) : Math.min(4, cpus().length);
  return Math.max(0, Math.min(n, seeds));
}

/** Runs seeds across worker threads (TypeScript loaded through ts-node, transpile-only). */
function runInWorkers(seeds: number[], threads: number): Promise<SeedOutcome[]> {
  const root = join(__dirname, '..', '..', '..');
  const bootstrap = `
    const { workerData } = require('node:worker_threads');
    require(workerData.tsNode).register({ transpileOnly: true, project: workerData.tsconfig });
    require(workerData.tsconfigPaths).register({ baseUrl: workerData.root, paths: { '@/*': ['src/*'] } });
    require(workerData.entry);
  `;
  const outcomes: SeedOutcome[] = [];
  const workers: Worker[] = [];
  return new Promise<SeedOutcome[]>((resolve, reject) => {
    let running = threads;
    const stopAll = () => workers.forEach((w) => void w.terminate());
    for (let k = 0; k < threads; k++) {
      const share = seeds.filter((_, i) => i % threads === k);
      const w = new Worker(bootstrap, {
        eval: true,
        workerData: {
          seeds: share,
          root,
          tsconfig: join(root, 'tsconfig.json'),
          tsNode: require.resolve('ts-node'),
          tsconfigPaths: require.resolve('tsconfig-paths'),
          entry: join(__dirname, 'support', 'search-worker.ts'),
        },
      });
      workers.push(w);
      w.on('message', (o: SeedOutcome) => {
        outcomes.push(o);
        if (!o.ok) stopAll();
      });
      w.on('error', (e) => {
        stopAll();
        reject(e);
      });
      w.on('exit', () => {
        if (--running === 0) resolve(outcomes);
      });
    }
  });
}

describe('Raft randomized search with linearizability checking', () => {
  it('keeps every history linearizable and every cluster live under random faults', async () => {
    const seeds = seedList();
    const threads = threadCount(seeds.length);
    const started = Date.now();
    const outcomes =
      threads > 0 ? await runInWorkers(seeds, threads) : seeds.map((s) => runSearchSeed(s));
    const seconds = (Date.now() - started) / 1000;

    const failed = outcomes.find((o) => !o.ok);
    if (failed) throw new Error(failed.error);
    expect(outcomes.length).toBe(seeds.length);

    const ops = outcomes.reduce((n, o) => n + o.operations, 0);
    const unknown = outcomes.reduce((n, o) => n + o.unknown, 0);
    const recovery = Math.max(...outcomes.map((o) => o.recoveryMs));
    console.log(
      `raft randomized search: ${seeds.length} seeds [${seeds[0]}..${seeds[seeds.length - 1]}], ` +
        `${SEARCH_CHAOS_MS / 1000} s of faults each, ${ops} client operations (${unknown} of unknown outcome) ` +
        `linearizable, slowest recovery to a leader ${recovery} ms simulated; ` +
        `${seconds.toFixed(1)} s wall on ${threads || 1} thread(s)`,
    );
  }, 600_000);
});
