/**
 * Randomness as an input. Core code never calls Math.random: the host passes
 * a Random (seeded from the OS in production, from the test seed in
 * simulations), so a failing run can be replayed exactly.
 */
export interface Random {
  /** A uniform float in [0, 1). */
  next(): number;
  /** A uniform integer in [min, maxExclusive). */
  int(min: number, maxExclusive: number): number;
}
