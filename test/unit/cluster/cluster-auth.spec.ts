import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  ClusterAuth,
  HEADER_BINDING,
  HEADER_DIGEST,
  HEADER_SIGNATURE,
  HEADER_TS,
} from '@/infra/cluster/cluster-auth';
import {
  x25519PrivateFromEd25519,
  x25519PublicFromEd25519,
} from '@/infra/cluster/cluster-auth.pairwise';
import { publicKeyToBase64 } from '@/modules/gossip/ed25519';

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
      bound: false,
    });
    expect(b.verify('POST', '/api/raft/append-entries', body, { ...h })).toEqual({
      ok: false,
      reason: 'replayed request',
    });
  });

  it.each([
    ['another secret', new ClusterAuth('t'.repeat(32), 'b', 30_000, clock), '/p', body],
    ['another path', new ClusterAuth('s'.repeat(32), 'b', 30_000, clock), '/q', body],
  ])('refuses a signature made for %s', (_what, verifier, path, b) => {
    const h = a.sign('POST', '/p', body);
    expect(verifier.verify('POST', path, b, { ...h })).toEqual({
      ok: false,
      reason: 'bad signature',
    });
  });

  it('refuses a body that is not the signed one', () => {
    const b = new ClusterAuth('s'.repeat(32), 'b', 30_000, clock);
    const h = a.sign('POST', '/p', body);
    expect(b.verify('POST', '/p', Buffer.from('{"term":4}'), { ...h })).toEqual({
      ok: false,
      reason: 'body does not match its signed digest',
    });
  });

  it('decides from the headers alone, before the body is read', () => {
    const b = new ClusterAuth('s'.repeat(32), 'b', 30_000, clock);
    const h = a.sign('POST', '/p', body);
    expect(b.checkHeaders('POST', '/p', { ...h })).toMatchObject({
      ok: true,
      bodyLength: body.length,
    });
    expect(b.checkHeaders('POST', '/p', { ...h, [HEADER_DIGEST]: `99.${'0'.repeat(64)}` })).toEqual(
      { ok: false, reason: 'bad signature' },
    );
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

describe('ClusterAuth node binding (pairwise keys from the registry keys)', () => {
  const secret = 'k'.repeat(32);
  const keys = {
    a: generateKeyPairSync('ed25519'),
    b: generateKeyPairSync('ed25519'),
    c: generateKeyPairSync('ed25519'),
  };
  const registry = (['a', 'b', 'c'] as const).map((id) => ({
    id,
    publicKey: publicKeyToBase64(keys[id].publicKey),
    address: `127.0.0.1:300${id.charCodeAt(0) - 96}`,
  }));
  function node(id: 'a' | 'b' | 'c', as: string = id) {
    const n = new ClusterAuth(secret, as);
    n.useIdentity(keys[id].privateKey);
    n.setPeers(registry);
    return n;
  }
  const body = Buffer.from('{"type":"RequestVote"}');

  it('maps Ed25519 keys to the X25519 keys their private halves give', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const fromPublic = x25519PublicFromEd25519(
        Buffer.from(publicKeyToBase64(publicKey), 'base64'),
      );
      const fromPrivate = createPublicKey(x25519PrivateFromEd25519(privateKey))
        .export({ format: 'der', type: 'spki' })
        .subarray(-32);
      expect(fromPublic?.toString('hex')).toBe(Buffer.from(fromPrivate).toString('hex'));
    }
  });

  it('binds a request to its sender: b sees it came from a', () => {
    const h = node('a').sign('POST', '/api/raft/request-vote', body, '127.0.0.1:3002');
    expect(h[HEADER_BINDING]).toMatch(/^b=[0-9a-f]{64}$/);
    expect(node('b').verify('POST', '/api/raft/request-vote', body, { ...h })).toEqual({
      ok: true,
      nodeId: 'a',
      bound: true,
      address: '127.0.0.1:3001',
    });
  });

  it('without a receiver, binds for every known peer', () => {
    const h = node('a').sign('POST', '/p', body);
    expect(h[HEADER_BINDING]?.split(',').map((p) => p.split('=')[0])).toEqual(['b', 'c']);
    expect(node('c').verify('POST', '/p', body, { ...h })).toMatchObject({ bound: true });
  });

  it('a member holding the cluster secret cannot speak as another node', () => {
    // c signs as "a": the membership MAC holds, the binding cannot.
    const forged = node('c', 'a').sign('POST', '/p', body, 'b');
    expect(node('b').verify('POST', '/p', body, { ...forged })).toEqual({
      ok: false,
      reason: 'bad node signature for a',
    });
    // Without a binding it is only a member's request, which node-bound routes refuse.
    const stripped = { ...node('c', 'a').sign('POST', '/p', body, 'b') };
    delete stripped[HEADER_BINDING];
    expect(node('b').verify('POST', '/p', body, stripped)).toEqual({
      ok: true,
      nodeId: 'a',
      bound: false,
    });
    // The secret alone (no registered key) never binds.
    const outsider = new ClusterAuth(secret, 'a').sign('POST', '/p', body, 'b');
    expect(outsider[HEADER_BINDING]).toBeUndefined();
  });

  it('asks for the registry when an unknown member calls', () => {
    const b = node('b');
    const unknown: string[] = [];
    b.onUnknownPeer((id) => unknown.push(id));
    b.verify('POST', '/p', body, {
      ...new ClusterAuth(secret, 'newcomer').sign('POST', '/p', body),
    });
    b.verify('POST', '/p', body, {
      ...new ClusterAuth(secret, 'newcomer').sign('POST', '/p', body),
    });
    expect(unknown).toEqual(['newcomer']);
  });
});
