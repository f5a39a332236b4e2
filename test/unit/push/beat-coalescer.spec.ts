import { BeatCoalescer, type BeatWaiter } from '@/modules/push/beat-coalescer';

function waiter(log: string[], name: string): BeatWaiter {
  return {
    resolve: (at) => log.push(`${name} ok ${at}`),
    reject: (e) => log.push(`${name} failed ${e.message}`),
  };
}

describe('BeatCoalescer: many beats, one entry', () => {
  it('puts a site beating twice before a flush in the batch once and answers both callers', () => {
    const c = new BeatCoalescer(10);
    const log: string[] = [];
    expect(c.add('a', waiter(log, 'a1'))).toBe(true);
    expect(c.add('b', waiter(log, 'b1'))).toBe(true);
    expect(c.add('a', waiter(log, 'a2'))).toBe(true);
    const batch = c.take()!;
    expect(batch.sites).toEqual(['a', 'b']);
    expect(log).toEqual([]); // nobody is answered before the commit
    batch.settle({ ok: true, at: 1234 });
    expect(log.sort()).toEqual(['a1 ok 1234', 'a2 ok 1234', 'b1 ok 1234']);
  });

  it('starts empty after a take: the next beats form the next batch', () => {
    const c = new BeatCoalescer(10);
    const log: string[] = [];
    c.add('a', waiter(log, 'a'));
    const first = c.take()!;
    expect(c.size).toBe(0);
    expect(c.take()).toBeNull();
    c.add('a', waiter(log, 'a-again'));
    expect(c.take()!.sites).toEqual(['a']);
    first.settle({ ok: false, error: new Error('lost to a leader change') });
    expect(log).toEqual(['a failed lost to a leader change']);
  });

  it('refuses a new site past its bound, and still takes more beats of a waiting site', () => {
    const c = new BeatCoalescer(2);
    const log: string[] = [];
    expect(c.add('a', waiter(log, 'a'))).toBe(true);
    expect(c.add('b', waiter(log, 'b'))).toBe(true);
    expect(c.add('c', waiter(log, 'c'))).toBe(false);
    expect(c.add('a', waiter(log, 'a2'))).toBe(true);
    expect(c.take()!.sites).toEqual(['a', 'b']);
    expect(c.add('c', waiter(log, 'c'))).toBe(true);
  });
});
