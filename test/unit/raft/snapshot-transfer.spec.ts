import { IncomingSnapshot, OutgoingSnapshot } from '@/core/raft/snapshot-transfer';

/**
 * The two halves of a chunked transfer, on their own: the leader's window and
 * resend rules, and the follower's one-buffer, in-order assembly.
 */
const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251);
const key = (size: number, index = 10, term = 2) => ({ term, index, snapshotTerm: 1, size });

describe('OutgoingSnapshot', () => {
  it('sends at most `window` chunks ahead of the acknowledged offset', () => {
    const out = new OutgoingSnapshot({ index: 10, term: 1, data: bytes(10) }, 3, 2);
    expect(out.next()).toMatchObject({ offset: 0, done: false });
    expect(out.next()).toMatchObject({ offset: 3, done: false });
    expect(out.next()).toBeNull(); // window full
    expect(out.ack(3)).toBe(true);
    expect(out.next()).toMatchObject({ offset: 6, done: false });
    expect(out.ack(9)).toBe(true);
    const last = out.next()!;
    expect([last.offset, last.data.length, last.done]).toEqual([9, 1, true]);
    expect(out.next()).toBeNull();
  });

  it('resends from a reported gap once, not once per echo of it', () => {
    const out = new OutgoingSnapshot({ index: 10, term: 1, data: bytes(12) }, 3, 4);
    for (let i = 0; i < 4; i++) out.next();
    expect(out.ack(3)).toBe(true); // chunk 3..6 lost: the follower keeps answering 3
    expect(out.ack(3)).toBe(false);
    expect(out.next()).toMatchObject({ offset: 3 });
    expect(out.ack(3)).toBe(false); // an echo of the same gap
    expect(out.next()).toMatchObject({ offset: 6 });
  });

  it('sends an empty snapshot as one empty, final chunk', () => {
    const out = new OutgoingSnapshot({ index: 10, term: 1, data: new Uint8Array(0) }, 3, 2);
    expect(out.next()).toMatchObject({ offset: 0, done: true });
    expect(out.next()).toBeNull();
  });
});

describe('IncomingSnapshot', () => {
  it('assembles chunks in order and hands out the whole snapshot on the last', () => {
    const inc = new IncomingSnapshot(1_000);
    const data = bytes(7);
    expect(inc.offer(key(7), { offset: 0, data: data.subarray(0, 4), done: false })).toEqual({
      kind: 'partial',
      offset: 4,
    });
    const done = inc.offer(key(7), { offset: 4, data: data.subarray(4), done: true });
    expect(done.kind === 'complete' && Array.from(done.snapshot.data)).toEqual(Array.from(data));
  });

  it('answers a gap or a duplicate with the offset it holds, and a foreign chunk with 0', () => {
    const inc = new IncomingSnapshot(1_000);
    inc.offer(key(9), { offset: 0, data: bytes(3), done: false });
    expect(inc.offer(key(9), { offset: 6, data: bytes(3), done: true })).toEqual({
      kind: 'partial',
      offset: 3,
    });
    expect(inc.offer(key(9), { offset: 0, data: bytes(3), done: false })).toEqual({
      kind: 'partial',
      offset: 3,
    });
    expect(inc.offer(key(9, 11), { offset: 3, data: bytes(3), done: false })).toEqual({
      kind: 'partial',
      offset: 0,
    });
  });

  it('keeps its transfer against a delayed first chunk of an older snapshot', () => {
    const inc = new IncomingSnapshot(1_000);
    inc.offer(key(6, 20), { offset: 0, data: bytes(3), done: false });
    expect(inc.offer(key(6, 15), { offset: 0, data: bytes(3), done: false })).toEqual({
      kind: 'ignored',
    });
    expect(inc.offer(key(6, 20), { offset: 3, data: bytes(3), done: true }).kind).toBe('complete');
  });

  it('ignores a snapshot over its limit and chunks that contradict their size', () => {
    const inc = new IncomingSnapshot(8);
    expect(inc.offer(key(9), { offset: 0, data: bytes(9), done: true })).toEqual({
      kind: 'ignored',
    });
    expect(inc.offer(key(4), { offset: 0, data: bytes(5), done: true })).toEqual({
      kind: 'ignored',
    });
    expect(inc.offer(key(4), { offset: 0, data: bytes(4), done: false })).toEqual({
      kind: 'ignored',
    });
  });

  it('starts over after a reset (a new term)', () => {
    const inc = new IncomingSnapshot(1_000);
    inc.offer(key(6), { offset: 0, data: bytes(3), done: false });
    inc.reset();
    expect(inc.offer(key(6), { offset: 3, data: bytes(3), done: true })).toEqual({
      kind: 'partial',
      offset: 0,
    });
  });
});
