import { randomBytes } from 'node:crypto';
import {
  FrameOpener,
  FrameSealer,
  HEADER_BYTES,
  StreamFault,
} from '@/infra/cluster/cluster-stream.frames';

/**
 * The stream's frames on their own: what one side seals the other opens, in
 * order, however the bytes are split; a frame altered, forged under another
 * key, replayed, reordered or declaring more than the cap is a fault naming why.
 */

const MAX = 1024;
const key = randomBytes(32);

function frame(sealer: FrameSealer, payload: Buffer): Buffer {
  return Buffer.concat([sealer.seal(payload), payload]);
}

function open(opener: FrameOpener, bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  opener.push(bytes, (p) => out.push(p));
  return out;
}

function faultOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof StreamFault) return e.reason;
    throw e;
  }
  return 'none';
}

describe('cluster stream frames', () => {
  it('opens what was sealed, in order, across any split of the bytes', () => {
    const sealer = new FrameSealer(key, MAX);
    const payloads = [Buffer.from('one'), Buffer.alloc(0), randomBytes(MAX), Buffer.from('four')];
    const bytes = Buffer.concat(payloads.map((p) => frame(sealer, p)));
    for (const step of [1, 7, HEADER_BYTES, 500, bytes.length]) {
      const opener = new FrameOpener(key, MAX);
      const out: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += step)
        out.push(...open(opener, bytes.subarray(at, at + step)));
      expect(out.map((b) => b.toString('hex'))).toEqual(payloads.map((b) => b.toString('hex')));
    }
  });

  it('refuses a frame whose payload was altered, or tagged under another key', () => {
    const altered = frame(new FrameSealer(key, MAX), Buffer.from('vote for me'));
    altered[altered.length - 1] ^= 1;
    expect(faultOf(() => open(new FrameOpener(key, MAX), altered))).toBe('bad-tag');
    const foreign = frame(new FrameSealer(randomBytes(32), MAX), Buffer.from('hello'));
    expect(faultOf(() => open(new FrameOpener(key, MAX), foreign))).toBe('bad-tag');
  });

  it('refuses a replayed frame and one that skips ahead', () => {
    const sealer = new FrameSealer(key, MAX);
    const first = frame(sealer, Buffer.from('a'));
    const opener = new FrameOpener(key, MAX);
    expect(open(opener, first)).toHaveLength(1);
    expect(faultOf(() => open(opener, first))).toBe('replayed');
    // In one chunk: the good frame is delivered before the replay is refused.
    const delivered: Buffer[] = [];
    const fresh = new FrameOpener(key, MAX);
    expect(faultOf(() => fresh.push(Buffer.concat([first, first]), (p) => delivered.push(p)))).toBe(
      'replayed',
    );
    expect(delivered).toHaveLength(1);

    const s2 = new FrameSealer(key, MAX);
    frame(s2, Buffer.from('lost'));
    const third = frame(s2, Buffer.from('b'));
    expect(faultOf(() => open(new FrameOpener(key, MAX), third))).toBe('out-of-order');
  });

  it('refuses an oversized length from the header alone, before any payload', () => {
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32BE(MAX + 1, 0);
    expect(faultOf(() => open(new FrameOpener(key, MAX), header))).toBe('oversized');
    expect(() => new FrameSealer(key, MAX).seal(Buffer.alloc(MAX + 1))).toThrow(RangeError);
  });
});
