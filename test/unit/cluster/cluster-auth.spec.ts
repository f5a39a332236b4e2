import { ClusterAuth, HEADER_SIGNATURE, HEADER_TS } from '@/infra/cluster/cluster-auth';

describe('ClusterAuth', () => {
  let now = 1_000_000;
  const clock = () => now;
  const a = new ClusterAuth('s'.repeat(32), 'a', 30_000, clock);
  const body = Buffer.from('{"term":3}');

  it('accepts a fresh signed request once, then refuses the replay', () => {
    const b = new ClusterAuth('s'.repeat(32), 'b', 30_000, clock);
    const h = a.sign('POST', '/api/raft/append-entries', body);
    expect(b.verify('POST', '/api/raft/append-entries', body, { ...h })).toEqual({
      ok: true,
      nodeId: 'a',
    });
    expect(b.verify('POST', '/api/raft/append-entries', body, { ...h })).toEqual({
      ok: false,
      reason: 'replayed request',
    });
  });

  it.each([
    ['another secret', new ClusterAuth('t'.repeat(32), 'b', 30_000, clock), '/p', body],
    ['another path', new ClusterAuth('s'.repeat(32), 'b', 30_000, clock), '/q', body],
    [
      'another body',
      new ClusterAuth('s'.repeat(32), 'b', 30_000, clock),
      '/p',
      Buffer.from('{"term":4}'),
    ],
  ])('refuses a signature made for %s', (_what, verifier, path, b) => {
    const h = a.sign('POST', '/p', body);
    expect(verifier.verify('POST', path, b, { ...h })).toEqual({
      ok: false,
      reason: 'bad signature',
    });
  });

  it('refuses unsigned, malformed and out-of-window requests', () => {
    const b = new ClusterAuth('s'.repeat(32), 'b', 30_000, clock);
    expect(b.verify('POST', '/p', body, {})).toEqual({ ok: false, reason: 'unsigned request' });
    const h = a.sign('POST', '/p', body);
    expect(b.verify('POST', '/p', body, { ...h, [HEADER_SIGNATURE]: 'zz' })).toMatchObject({
      ok: false,
      reason: 'malformed signature headers',
    });
    now += 31_000;
    expect(b.verify('POST', '/p', body, { ...h })).toEqual({
      ok: false,
      reason: 'stale or future timestamp',
    });
    expect(b.verify('POST', '/p', body, { ...h, [HEADER_TS]: String(now) })).toEqual({
      ok: false,
      reason: 'bad signature',
    });
  });
});
