import { type KvOperation, checkLinearizable, kvModel } from '../../fakes/linearizability';

/**
 * The checker must say no to histories no sequential order explains, and yes
 * to those some order (respecting real time) explains — including operations
 * whose outcome is unknown.
 */
describe('linearizability checker (KV model)', () => {
  const put = (
    clientId: number,
    key: string,
    value: string,
    call: number,
    ret: number,
  ): KvOperation => ({
    clientId,
    input: { op: 'put', key, value },
    output: {},
    call,
    return: ret,
  });
  const append = (
    clientId: number,
    key: string,
    value: string,
    call: number,
    ret: number,
  ): KvOperation => ({
    clientId,
    input: { op: 'append', key, value },
    output: {},
    call,
    return: ret,
  });
  const get = (
    clientId: number,
    key: string,
    value: string,
    call: number,
    ret: number,
  ): KvOperation => ({
    clientId,
    input: { op: 'get', key },
    output: { value },
    call,
    return: ret,
  });

  it('rejects a stale read after a completed write', () => {
    const history = [put(1, 'x', '1', 0, 10), get(2, 'x', '', 20, 30)];
    const r = checkLinearizable(kvModel, history);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe('not-linearizable');
  });

  it('rejects reads that see two writes in opposite orders', () => {
    // x is '' then two concurrent appends; one reader sees "ab", the other (later) sees "ba".
    const history = [
      append(1, 'x', 'a', 0, 100),
      append(2, 'x', 'b', 0, 100),
      get(3, 'x', 'ab', 110, 120),
      get(4, 'x', 'ba', 130, 140),
    ];
    expect(checkLinearizable(kvModel, history).ok).toBe(false);
  });

  it('rejects a value going back in time', () => {
    const history = [
      put(1, 'x', '1', 0, 5),
      put(1, 'x', '2', 6, 10),
      get(2, 'x', '2', 11, 12),
      get(3, 'x', '1', 13, 14),
    ];
    expect(checkLinearizable(kvModel, history).ok).toBe(false);
  });

  it('accepts a read concurrent with a write returning either value', () => {
    for (const seen of ['', '1']) {
      const history = [put(1, 'x', '1', 0, 10), get(2, 'x', seen, 5, 15)];
      expect(checkLinearizable(kvModel, history).ok).toBe(true);
    }
  });

  it('accepts concurrent appends read in one consistent order', () => {
    const history = [
      append(1, 'x', 'a', 0, 100),
      append(2, 'x', 'b', 0, 100),
      get(3, 'x', 'ba', 110, 120),
      get(4, 'x', 'ba', 130, 140),
      put(5, 'y', 'independent', 0, 1),
    ];
    const r = checkLinearizable(kvModel, history);
    expect(r).toMatchObject({ ok: true, partitions: 2 });
  });

  it('treats an unacknowledged write as possibly happened, at any later point or never', () => {
    const unknown: KvOperation = {
      clientId: 1,
      input: { op: 'put', key: 'x', value: '1' },
      output: undefined,
      call: 0,
      return: Infinity,
    };
    expect(checkLinearizable(kvModel, [unknown, get(2, 'x', '', 10, 20)]).ok).toBe(true);
    expect(checkLinearizable(kvModel, [unknown, get(2, 'x', '1', 10, 20)]).ok).toBe(true);
    // ...but once observed it cannot be un-observed.
    expect(
      checkLinearizable(kvModel, [unknown, get(2, 'x', '1', 10, 20), get(3, 'x', '', 30, 40)]).ok,
    ).toBe(false);
  });

  it('handles a few hundred operations quickly', () => {
    const history: KvOperation[] = [];
    let t = 0;
    let value = '';
    for (let i = 0; i < 300; i++) {
      const v = `v${i};`;
      history.push(append(i % 5, 'x', v, t, t + 3), get((i + 1) % 5, 'x', value, t + 1, t + 2));
      value += v;
      t += 4;
    }
    const started = Date.now();
    expect(checkLinearizable(kvModel, history).ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
