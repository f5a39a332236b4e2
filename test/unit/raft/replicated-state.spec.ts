import type { LogEntry, StateMachine } from '@/core/raft/raft.types';
import { KvStateMachine } from '@/modules/raft/kv.state-machine';
import { encodeCommand, encodeJsonCommand, ReplicatedState } from '@/modules/raft/replicated-state';

/** The log's command envelope: one encoding, and each part gets its command's JSON as written. */
describe('ReplicatedState', () => {
  const entry = (index: number, data: string): LogEntry => ({
    index,
    term: 1,
    type: 'command',
    data,
  });

  it('encodes exactly what JSON.stringify({m, c}) did, also around pre-encoded JSON', () => {
    const cmd = { op: 'put', key: 'k "quoted" \\ é', value: 'v\n1', n: [1, 2.5, null] };
    expect(encodeCommand('kv', cmd)).toBe(JSON.stringify({ m: 'kv', c: cmd }));
    expect(encodeJsonCommand('a"b', JSON.stringify(cmd))).toBe(
      JSON.stringify({ m: 'a"b', c: cmd }),
    );
  });

  it("hands a part its command's JSON text unchanged", () => {
    const seen: string[] = [];
    const part: StateMachine<unknown> = {
      apply: (e) => seen.push(e.data as string),
      snapshot: () => new Uint8Array(),
      restore: () => undefined,
    };
    const state = new ReplicatedState();
    state.register('p"x', part);
    const json = JSON.stringify({ t: 'batch', d: [{ s: 'a}', r: 1 }] });
    state.apply(entry(1, encodeJsonCommand('p"x', json)));
    expect(seen).toEqual([json]);
  });

  it('answers a bad entry with the same error on every node instead of throwing', () => {
    const state = new ReplicatedState();
    const kv = new KvStateMachine();
    state.register('kv', kv);
    for (const bad of [
      '',
      'not json',
      '{"c":1,"m":"kv"}',
      '{"m":"kv","c":{oops}',
      '{"m":"kv","c":',
    ])
      expect(state.apply(entry(1, bad))).toEqual({ error: 'undecodable command' });
    expect(state.apply(entry(2, encodeCommand('nope', {})))).toEqual({
      error: 'unknown state machine nope',
    });
    expect(state.apply(entry(3, encodeCommand('kv', { op: 'put', key: 'a', value: 'b' })))).toEqual(
      { index: 3, previous: null },
    );
    expect(kv.get('a')).toBe('b');
  });
});
