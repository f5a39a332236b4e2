import type { Random } from './random.port';

/**
 * A small, fast, seedable PRNG (xoshiro128**, seeded through splitmix32).
 * Invariant: the sequence is a pure function of the seed, so two runs with
 * the same seed make the same choices in the same order.
 */
export class SeededRandom implements Random {
  /** xoshiro128** state, kept in an Int32Array so the numbers never leave 32-bit integers */
  private readonly s = new Int32Array(4);

  constructor(seed: number | string) {
    let x = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
    for (let i = 0; i < 4; i++) {
      // splitmix32: spreads a 32-bit seed over the 128-bit state
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = z ^ (z >>> 16);
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[3] = 1;
  }

  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9);
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result >>> 0;
  }

  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  int(min: number, maxExclusive: number): number {
    if (!(maxExclusive > min)) throw new RangeError(`empty range [${min}, ${maxExclusive})`);
    return min + Math.floor(this.next() * (maxExclusive - min));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty array');
    return items[this.int(0, items.length)];
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** An independent generator whose seed is derived from this one's seed and a label. */
  fork(label: string): SeededRandom {
    return new SeededRandom(hashString(`${this.nextUint32()}:${label}`));
  }
}

/** Derives a 32-bit seed from a base seed and a label, e.g. a node id. */
export function deriveSeed(seed: number, label: string): number {
  return hashString(`${seed >>> 0}:${label}`);
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** FNV-1a, 32-bit. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
