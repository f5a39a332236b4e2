/**
 * Seeds for scenario tests. A scenario runs with a fixed seed derived from its
 * name (reproducible in CI); RAFT_SEED=<n> replays one seed, and
 * RAFT_SCENARIO_SEEDS=<k> runs every scenario with k consecutive seeds (a
 * cheap local bug hunt). A failure message always names the seed.
 */
export function scenarioSeeds(name: string): number[] {
  const fixed = process.env.RAFT_SEED;
  if (fixed !== undefined && fixed !== '') return [Number(fixed) >>> 0];
  const count = Math.max(1, Number(process.env.RAFT_SCENARIO_SEEDS ?? '1') || 1);
  const base = nameHash(name);
  return Array.from({ length: count }, (_, i) => (base + i) >>> 0);
}

/** `it(name)` over every seed from scenarioSeeds(name). */
export function scenario(name: string, story: (seed: number) => void, timeoutMs = 60_000): void {
  it(
    name,
    () => {
      for (const seed of scenarioSeeds(name)) {
        try {
          story(seed);
        } catch (e) {
          const err = e as Error;
          if (!err.message.includes('RAFT_SEED'))
            err.message += ` (seed=${seed}; replay with RAFT_SEED=${seed})`;
          throw err;
        }
      }
    },
    timeoutMs,
  );
}

function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
