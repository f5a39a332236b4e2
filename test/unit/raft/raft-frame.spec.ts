import type { RaftMessage } from '@/core/raft/raft.messages';
import { FrameError, decodeFrame, encodeFrame } from '@/modules/raft/raft-frame';

/**
 * The transport's binary frame: every message type survives the round trip
 * (string and binary commands, null contexts, snapshots), and a damaged frame
 * is refused as a whole with the offset of the damage.
 */
const env = { from: '127.0.0.1:3001', to: '127.0.0.1:3002', term: 7 };
const all: RaftMessage[] = [
  { type: 'PreVote', ...env, lastLogIndex: 10, lastLogTerm: 6 },
  { type: 'PreVoteResponse', ...env, granted: true },
  { type: 'RequestVote', ...env, lastLogIndex: 2 ** 40, lastLogTerm: 6, transfer: true },
  { type: 'RequestVoteResponse', ...env, granted: false },
  {
    type: 'AppendEntries',
    ...env,
    prevLogIndex: 41,
    prevLogTerm: 6,
    leaderCommit: 40,
    entries: [
      { index: 42, term: 7, type: 'noop', data: '' },
      { index: 43, term: 7, type: 'command', data: '{"m":"kv","c":"é✓"}' },
      { index: 44, term: 7, type: 'command', data: new Uint8Array([0, 1, 2, 255]) },
    ],
  },
  { type: 'AppendEntriesResponse', ...env, success: false, index: 41, hintIndex: 30, hintTerm: 5 },
  { type: 'Heartbeat', ...env, leaderCommit: 40, context: null },
  { type: 'HeartbeatResponse', ...env, context: 'ctx-1' },
  {
    type: 'InstallSnapshot',
    ...env,
    snapshotIndex: 100,
    snapshotTerm: 6,
    size: 5,
    offset: 2,
    data: new Uint8Array([9, 8, 7]),
    done: true,
  },
  { type: 'InstallSnapshotResponse', ...env, snapshotIndex: 100, offset: 2 },
  { type: 'TimeoutNow', ...env, vote: true },
  { type: 'ReadIndex', ...env, context: 'r1' },
  { type: 'ReadIndexResponse', ...env, context: 'r1', index: 40 },
];

describe('raft binary frame', () => {
  it('round-trips every message type in one frame', () => {
    const back = decodeFrame(encodeFrame(all));
    expect(back).toEqual(all);
  });

  it('refuses truncated, padded, mistyped and non-contiguous frames with the offset', () => {
    const frame = encodeFrame(all);
    const cases: [Buffer, RegExp][] = [
      [frame.subarray(0, frame.length - 3), /truncated/],
      [Buffer.concat([frame, Buffer.from([0])]), /trailing bytes/],
      [Buffer.from('{"type":"AppendEntries"}'), /magic/],
    ];
    const badType = Buffer.from(frame);
    badType[8] = 200; // first message's type byte
    cases.push([badType, /unknown message type 200 .*|at byte 8: unknown message type 200/]);
    const gap = encodeFrame([
      {
        type: 'AppendEntries',
        ...env,
        prevLogIndex: 1,
        prevLogTerm: 1,
        leaderCommit: 0,
        entries: [{ index: 3, term: 1, type: 'noop', data: '' }],
      },
    ]);
    cases.push([gap, /entry index 3, expected 2/]);
    const chunk = (size: number, done: boolean) =>
      encodeFrame([
        {
          type: 'InstallSnapshot',
          ...env,
          snapshotIndex: 9,
          snapshotTerm: 1,
          size,
          offset: 4,
          data: new Uint8Array(4),
          done,
        },
      ]);
    cases.push([chunk(6, true), /snapshot chunk ends at 8, past 6/]);
    cases.push([chunk(8, false), /ending at 8 of 8 with done=false/]);
    cases.push([chunk(9, true), /ending at 8 of 9 with done=true/]);
    for (const [buf, message] of cases) {
      let caught: unknown;
      try {
        decodeFrame(buf);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(FrameError);
      expect((caught as Error).message).toMatch(/bad raft frame at byte \d+/);
      expect((caught as Error).message).toMatch(message);
    }
  });

  it('refuses to encode an integer beyond 48 bits instead of corrupting it', () => {
    expect(() => encodeFrame([{ type: 'TimeoutNow', ...env, term: 2 ** 49, vote: false }])).toThrow(
      /out of range/,
    );
  });
});
