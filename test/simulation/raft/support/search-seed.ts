import { checkLinearizable, kvModel } from '../../../fakes/linearizability';
import { type WorkloadOptions, runKvWorkload } from './kv-workload';
import { SimCluster, type SimOptions } from './sim-cluster';

/**
 * One seed of the randomized search: a 5-node cluster under random faults
 * with four KV clients, safety checked on every step, liveness after healing,
 * and the client history checked for linearizability. Pure function of the seed.
 */
export interface SeedOutcome {
  readonly seed: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly operations: number;
  readonly unknown: number;
  readonly recoveryMs: number;
}

export const SEARCH_CHAOS_MS = 4_000;
export const SEARCH_CLIENTS = 4;

/**
 * The cluster shape varies with the seed so every combination gets searched:
 * pre-vote and check-quorum on or off (without check-quorum a partitioned
 * leader keeps believing it leads, which is what ReadIndex must guard
 * against), snapshots never / often / sometimes, one entry per message or
 * batches, a flow-control window of 1 to 64, and clocks that drift.
 */
export function searchOptions(seed: number): SimOptions {
  return {
    nodes: 5,
    seed,
    preVote: seed % 4 !== 1,
    checkQuorum: seed % 4 < 2,
    snapshotEvery: [0, 8, 25][seed % 3],
    maxEntriesPerMessage: [1, 3, 512][(seed >> 2) % 3],
    maxInflightMessages: [1, 4, 64][(seed >> 3) % 3],
    tickDrift: 0.1,
  };
}

export function runSearchSeed(
  seed: number,
  overrides: Partial<SimOptions> = {},
  workload: Partial<WorkloadOptions> = {},
): SeedOutcome {
  const sim = new SimCluster({ ...searchOptions(seed), ...overrides });
  try {
    const result = runKvWorkload(sim, {
      clients: SEARCH_CLIENTS,
      chaosMs: SEARCH_CHAOS_MS,
      ...workload,
    });
    const check = checkLinearizable(kvModel, result.history);
    const base = {
      seed,
      operations: result.history.length,
      unknown: result.counts.unknown,
      recoveryMs: result.recoveryMs,
    };
    if (check.ok) return { ...base, ok: true };
    const lines = check.operations.slice(0, 80).map((op) => `  ${kvModel.describe!(op)}`);
    return {
      ...base,
      ok: false,
      error: `history is ${check.reason} (seed=${seed}; replay with RAFT_SEED=${seed}); the failing key's operations:\n${lines.join('\n')}`,
    };
  } catch (e) {
    const err = e as Error;
    const where = err.message.includes('RAFT_SEED') ? '' : ` (${sim.where()})`;
    return {
      seed,
      ok: false,
      error: `${err.message}${where}\n${err.stack ?? ''}`,
      operations: 0,
      unknown: 0,
      recoveryMs: 0,
    };
  }
}
