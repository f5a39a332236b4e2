import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { voteSigningBytes, type UnsignedVote, type Vote } from '@/core/consensus/vote';
import { ClusterAuth } from '@/infra/cluster/cluster-auth';
import { TallyService } from '@/modules/consensus/tally.service';
import { publicKeyToBase64, signBytes } from '@/modules/gossip/ed25519';
import { GossipService } from '@/modules/gossip/gossip.service';
import { joinClaimBytes, ValidatorIdentity } from '@/modules/gossip/validator-identity';
import { createTestApp, TestApp } from '../support/app';

/**
 * POST /api/simulate/gossip and /join over HTTP: only cluster members get in,
 * malformed payloads are 400 and change nothing, bad votes are counted by reason
 * and never tallied, a valid vote from a registered validator is accepted.
 */
jest.setTimeout(90_000);

const SECRET = 'e2e-cluster-secret-0123456789abcdef';
const GOSSIP = '/api/simulate/gossip';
const JOIN = '/api/simulate/gossip/join';

describe('gossip API', () => {
  let t: TestApp;
  const peer = new ClusterAuth(SECRET, 'peer-1');
  const peerKeys = generateKeyPairSync('ed25519');
  const strangerKeys = generateKeyPairSync('ed25519');

  beforeAll(async () => {
    t = await createTestApp({ CLUSTER_SECRET: SECRET, VALIDATOR_ID: 'hub', LOCATION: 'eu' });
    // peer-1 signs as a registered node does: bound to its own key (after it joined).
    peer.useIdentity(peerKeys.privateKey);
    peer.setPeers([{ id: 'hub', publicKey: t.app.get(ValidatorIdentity).publicKey }]);
  });
  afterAll(() => t?.close());

  /** A request signed like ClusterClient signs it; the body is sent byte for byte as signed. */
  function signedPost(path: string, body: unknown, as = peer) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const headers = as.sign('POST', path, Buffer.from(text));
    return t.http.post(path).set(headers).set('content-type', 'application/json').send(text);
  }

  function vote(
    fields: Partial<UnsignedVote> = {},
    key: KeyObject | null = peerKeys.privateKey,
  ): Vote {
    const v: UnsignedVote = {
      siteId: 'site-e2e',
      round: 100,
      validatorId: 'peer-1',
      region: 'us',
      up: true,
      latencyMs: 12,
      httpStatus: 200,
      checkedAt: Date.now() - 500,
      ...fields,
    };
    return key ? { ...v, signature: signBytes(key, voteSigningBytes(v)) } : v;
  }

  function joinBody(id = 'peer-1', key = peerKeys) {
    const claim = {
      id,
      region: 'us',
      publicKey: publicKeyToBase64(key.publicKey),
      address: '127.0.0.1:3999',
      at: Date.now(),
    };
    return { ...claim, proof: signBytes(key.privateKey, joinClaimBytes(claim)) };
  }

  const tally = () => t.app.get(TallyService);
  const gossip = () => t.app.get(GossipService);

  it('refuses callers without the cluster credential (401, standard error body)', async () => {
    const res = await t.http.post(GOSSIP).send({ from: 'x:1', items: [] }).expect(401);
    expect(res.body).toEqual({
      statusCode: 401,
      error: 'UNAUTHENTICATED',
      message: expect.any(String),
    });
    const wrong = new ClusterAuth('another-secret-0123456789abcdef', 'peer-1');
    await signedPost(GOSSIP, { from: 'x:1', items: [] }, wrong).expect(401);
    await t.http.post(JOIN).send(joinBody()).expect(401);
  });

  it('documents both endpoints in OpenAPI', async () => {
    const doc = await t.http.get('/api/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining([GOSSIP, JOIN]));
  });

  it('lets a member join only as itself and only with a key it holds', async () => {
    await signedPost(JOIN, joinBody('someone-else')).expect(403);
    const forgedProof = { ...joinBody(), proof: joinBody('peer-1', strangerKeys).proof };
    await signedPost(JOIN, forgedProof).expect(401);
    await signedPost(JOIN, { ...joinBody(), publicKey: 'nope' }).expect(400);
    const res = await signedPost(JOIN, joinBody()).expect(200);
    expect(res.body).toEqual({ outcome: 'created' });
    await signedPost(JOIN, joinBody()).expect(200, { outcome: 'updated' });
  });

  it('answers a malformed payload with 400 and changes nothing', async () => {
    const before = { gossip: gossip().stats(), tally: tally().stats() };
    const bad = [
      { from: 'x:1' },
      { from: 'x:1', items: [{ hops: 0, vote: { ...vote(), round: -1 } }] },
      { from: 'x:1', items: [{ hops: 0, vote: { ...vote(), extra: true } }] },
      { from: 'x:1', items: [{ hops: 0, vote: { ...vote(), up: 'yes' } }] },
      {
        from: 'x:1',
        items: [
          { hops: 0, vote: vote() },
          { hops: -1, vote: vote() },
        ],
      },
      { from: 'not an address', items: [] },
    ];
    for (const body of bad) {
      const res = await signedPost(GOSSIP, body).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'VALIDATION_FAILED' });
      expect(res.body.details.length).toBeGreaterThan(0);
    }
    const json = await signedPost(GOSSIP, '{"from":').expect(400);
    expect(json.body.error).toBe('BAD_JSON');
    expect(gossip().stats()).toEqual(before.gossip);
    expect(tally().stats()).toEqual(before.tally);
  });

  it('counts forged, unsigned, unknown and stale votes as rejected and never tallies them', async () => {
    const before = tally().stats();
    const items = [
      vote({}, strangerKeys.privateKey), // claims peer-1, signed by another key
      vote({ validatorId: 'hub', region: 'eu' }, peerKeys.privateKey), // claims the hub itself
      { ...vote(), up: false }, // tampered after signing
      vote({ region: 'ap' }), // peer-1's key, but not peer-1's region
      vote({}, null), // unsigned
      vote({ validatorId: 'ghost' }), // not in the registry
      vote({ checkedAt: Date.now() - 3_600_000 }), // far too old
    ].map((v) => ({ hops: 0, vote: v }));
    const res = await signedPost(GOSSIP, { from: '127.0.0.1:3999', items }).expect(200);
    expect(res.body).toEqual({
      accepted: 0,
      rejected: { forged: 4, unsigned: 1, 'unknown-validator': 1, 'too-old': 1 },
    });
    expect(tally().stats().counted).toBe(before.counted);
    expect(tally().live('site-e2e')).toEqual([]);
    expect(gossip().stats().rejected).toMatchObject({ forged: 4, unsigned: 1 });
  });

  it('accepts a valid vote from a registered validator into the tally, once', async () => {
    const signed = vote({ up: false, failure: 'TIMEOUT', httpStatus: undefined });
    const body = { from: '127.0.0.1:3999', items: [{ hops: 0, vote: signed }] };
    await signedPost(GOSSIP, body).expect(200, { accepted: 1, rejected: {} });
    const [live] = tally().live('site-e2e');
    expect(live).toMatchObject({
      round: 100,
      voters: ['peer-1'],
      tally: { up: 0, down: 1, total: 1 },
      waitingFor: ['hub'],
    });
    await signedPost(GOSSIP, body).expect(200, { accepted: 0, rejected: { replayed: 1 } });
    expect(tally().live('site-e2e')[0].tally.total).toBe(1);
  });
});
