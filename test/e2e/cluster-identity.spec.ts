import { generateKeyPairSync, type KeyPairKeyObjectResult } from 'node:crypto';
import { ClusterAuth } from '@/infra/cluster/cluster-auth';
import { PrismaService } from '@/infra/database/prisma.service';
import { publicKeyToBase64, signBytes } from '@/modules/gossip/ed25519';
import {
  joinClaimBytes,
  rekeyProofBytes,
  ValidatorIdentity,
} from '@/modules/gossip/validator-identity';
import { createTestApp, TestApp } from '../support/app';

/**
 * The cluster secret proves membership only. Holding it, one can no longer
 * re-key another validator through join, nor send node-bound requests as it;
 * a re-key needs the old key's proof or the operator's ALLOW_REKEY.
 */
jest.setTimeout(90_000);

const SECRET = 'identity-cluster-secret-0123456789ab';
const JOIN = '/api/simulate/gossip/join';
const GOSSIP = '/api/simulate/gossip';

describe('per-node identity on cluster routes', () => {
  let t: TestApp;
  const v2Keys = generateKeyPairSync('ed25519');
  const attackerKeys = generateKeyPairSync('ed25519');

  beforeAll(async () => {
    t = await createTestApp({ CLUSTER_SECRET: SECRET, VALIDATOR_ID: 'hub', LOCATION: 'eu' });
  });
  afterAll(() => t?.close());

  function claim(keys: KeyPairKeyObjectResult, id = 'v2') {
    const c = {
      id,
      region: 'us',
      publicKey: publicKeyToBase64(keys.publicKey),
      address: '127.0.0.1:3902',
      at: Date.now(),
    };
    return { ...c, proof: signBytes(keys.privateKey, joinClaimBytes(c)) };
  }

  function post(path: string, body: unknown, as: ClusterAuth) {
    const text = JSON.stringify(body);
    return t.http
      .post(path)
      .set(as.sign('POST', path, Buffer.from(text), 'hub'))
      .set('content-type', 'application/json')
      .send(text);
  }

  const registered = async (id: string) =>
    (await t.app.get(PrismaService).validator.findUnique({ where: { id } }))?.publicKey;

  it('refuses to re-key another validator with only the cluster secret', async () => {
    const v2 = new ClusterAuth(SECRET, 'v2');
    await post(JOIN, claim(v2Keys), v2).expect(200, { outcome: 'created' });
    const original = await registered('v2');
    expect(original).toBe(publicKeyToBase64(v2Keys.publicKey));

    // The attacker holds CLUSTER_SECRET and a key of its own, and claims to be v2.
    const attacker = new ClusterAuth(SECRET, 'v2');
    const res = await post(JOIN, claim(attackerKeys), attacker).expect(403);
    expect(res.body).toMatchObject({
      error: 'FORBIDDEN',
      message: expect.stringMatching(/another key/),
    });
    expect(await registered('v2')).toBe(original);

    // A proof "from the old key" made with any other key does not count either.
    const c = claim(attackerKeys);
    const { proof: _p, ...fields } = c;
    const fakeRekey = {
      ...c,
      rekeyProof: signBytes(attackerKeys.privateKey, rekeyProofBytes(fields)),
    };
    await post(JOIN, fakeRekey, attacker).expect(403);
    expect(await registered('v2')).toBe(original);
  });

  it('refuses node-bound requests made as v2 without v2 key', async () => {
    const attacker = new ClusterAuth(SECRET, 'v2');
    attacker.useIdentity(attackerKeys.privateKey);
    attacker.setPeers([{ id: 'hub', publicKey: t.app.get(ValidatorIdentity).publicKey }]);
    const forged = await post(GOSSIP, { from: '127.0.0.1:3902', items: [] }, attacker).expect(401);
    expect(forged.body.message).toMatch(/bad node signature for v2/);
    const bare = await post(
      GOSSIP,
      { from: '127.0.0.1:3902', items: [] },
      new ClusterAuth(SECRET, 'v2'),
    ).expect(401);
    expect(bare.body.message).toMatch(/not signed with that node's own key/);

    const v2 = new ClusterAuth(SECRET, 'v2');
    v2.useIdentity(v2Keys.privateKey);
    v2.setPeers([{ id: 'hub', publicKey: t.app.get(ValidatorIdentity).publicKey }]);
    await post(GOSSIP, { from: '127.0.0.1:3902', items: [] }, v2).expect(200);
  });

  it('accepts a re-key vouched for by the old key', async () => {
    const next = generateKeyPairSync('ed25519');
    const c = claim(next);
    const { proof: _p, ...fields } = c;
    const rekey = { ...c, rekeyProof: signBytes(v2Keys.privateKey, rekeyProofBytes(fields)) };
    await post(JOIN, rekey, new ClusterAuth(SECRET, 'v2')).expect(200, { outcome: 'rekeyed' });
    expect(await registered('v2')).toBe(publicKeyToBase64(next.publicKey));
  });
});

describe('ALLOW_REKEY (operator action)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      CLUSTER_SECRET: SECRET,
      VALIDATOR_ID: 'hub',
      LOCATION: 'eu',
      ALLOW_REKEY: 'v3',
    });
  });
  afterAll(() => t?.close());

  it('lets the listed validator replace its lost key, and only that one', async () => {
    const post = (body: unknown, id: string) => {
      const text = JSON.stringify(body);
      return t.http
        .post(JOIN)
        .set(new ClusterAuth(SECRET, id).sign('POST', JOIN, Buffer.from(text)))
        .set('content-type', 'application/json')
        .send(text);
    };
    const join = (id: string, keys: KeyPairKeyObjectResult, address: string) => {
      const c = {
        id,
        region: 'us',
        publicKey: publicKeyToBase64(keys.publicKey),
        address,
        at: Date.now(),
      };
      return post({ ...c, proof: signBytes(keys.privateKey, joinClaimBytes(c)) }, id);
    };
    await join('v3', generateKeyPairSync('ed25519'), '127.0.0.1:3903').expect(200);
    await join('v4', generateKeyPairSync('ed25519'), '127.0.0.1:3904').expect(200);
    await join('v3', generateKeyPairSync('ed25519'), '127.0.0.1:3903').expect(200, {
      outcome: 'rekeyed',
    });
    await join('v4', generateKeyPairSync('ed25519'), '127.0.0.1:3904').expect(403);
  });
});
