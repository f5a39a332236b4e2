/**
 * Time as an input. Core code never reads ambient time: the host passes a
 * Clock (the real one in Nest, a FakeClock in simulations), so every decision
 * that depends on time is reproducible from a seed.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (or since the start of a simulation). */
  now(): number;
}
