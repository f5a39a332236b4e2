/** The real Clock and Random behind the core's ports (simulations pass fakes). */
import { randomBytes } from 'node:crypto';
import type { Clock } from '@/core/ports/clock.port';
import { SeededRandom } from '@/core/ports/seeded-random';

export const systemClock: Clock = { now: () => Date.now() };

/** A PRNG seeded from the OS: peer choice needs spread, not secrecy. */
export function osSeededRandom(): SeededRandom {
  return new SeededRandom(randomBytes(4).readUInt32LE(0));
}
