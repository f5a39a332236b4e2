import { BoundedQueue } from '@/core/gossip/bounded-queue';
import { SeenSet } from '@/core/gossip/seen-set';

describe('BoundedQueue', () => {
  it('keeps at most capacity items, dropping the oldest and saying how many', () => {
    const q = new BoundedQueue<number>(3);
    expect([1, 2, 3].map((n) => q.push(n))).toEqual([0, 0, 0]);
    expect(q.push(4)).toBe(1);
    expect(q.take(2)).toEqual([2, 3]);
    expect(q.length).toBe(1);
    expect(q.take(10)).toEqual([4]);
    expect(q.take(1)).toEqual([]);
  });

  it('stays correct across many pushes and takes (compaction)', () => {
    const q = new BoundedQueue<number>(5_000);
    let next = 0;
    let expected = 0;
    for (let i = 0; i < 50; i++) {
      for (let k = 0; k < 3_000; k++) q.push(next++);
      const got = q.take(2_500);
      expected = Math.max(expected, next - 5_000 - 0);
      expect(got[0]).toBeGreaterThanOrEqual(expected);
      expected = got[got.length - 1] + 1;
      expect(q.length).toBeLessThanOrEqual(5_000);
    }
  });
});

describe('SeenSet', () => {
  it('remembers fingerprints for ttl, then forgets', () => {
    const s = new SeenSet(1_000, 10);
    s.add('k1', 'f1', 0);
    s.add('k2', 'f2', 500);
    s.add('k1', 'other', 600);
    expect(s.get('k1')).toBe('f1');
    s.expire(999);
    expect(s.size).toBe(2);
    s.expire(1_000);
    expect(s.get('k1')).toBeUndefined();
    expect(s.get('k2')).toBe('f2');
  });

  it('evicts the oldest when full and counts it', () => {
    const s = new SeenSet(1_000, 2);
    s.add('a', 'x', 0);
    s.add('b', 'x', 0);
    s.add('c', 'x', 0);
    expect(s.get('a')).toBeUndefined();
    expect(s.evicted).toBe(1);
  });
});
