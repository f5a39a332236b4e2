/**
 * Seeds for gossip simulations: each scenario runs GOSSIP_SEEDS consecutive seeds
 * (default 6) from a base derived from its name; GOSSIP_SEED=<n> replays one. A
 * failure names its seed and how to replay it.
 */
export function gossipSeeds(name: string, defaultCount = 6): number[] {
  const fixed = process.env.GOSSIP_SEED;
  if (fixed !== undefined && fixed !== '') return [Number(fixed) >>> 0];
  const count = Math.max(1, Number(process.env.GOSSIP_SEEDS ?? defaultCount) || defaultCount);
  const base = nameHash(name);
  return Array.from({ length: count }, (_, i) => (base + i) >>> 0);
}

/** `it(name)` over every seed; the failing seed is printed with the replay command. */
export function seededScenario(
  name: string,
  story: (seed: number) => void,
  options: { seeds?: number; timeoutMs?: number } = {},
): void {
  it(
    name,
    () => {
      for (const seed of gossipSeeds(name, options.seeds)) {
        try {
          story(seed);
        } catch (e) {
          const err = e as Error;
          const hint = `(seed=${seed}; replay with GOSSIP_SEED=${seed})`;
          err.message = `${hint}\n${err.message}`;
          console.error(`gossip simulation "${name}" failed ${hint}`);
          throw err;
        }
      }
    },
    options.timeoutMs ?? 60_000,
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
