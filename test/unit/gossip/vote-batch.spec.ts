import { generateKeyPairSync } from 'node:crypto';
import type { UnsignedVote } from '@/core/consensus/vote';
import { GossipEngine } from '@/core/gossip/gossip-engine';
import type { GossipVote } from '@/core/gossip/gossip.types';
import { buildBatch, leafHash, rootFromProof } from '@/core/gossip/vote-batch';
import { SeededRandom } from '@/core/ports/seeded-random';
import { publicKeyToBase64 } from '@/modules/gossip/ed25519';
import { RegistryVoteVerifier } from '@/modules/gossip/registry-vote-verifier';
import { decodeProof, encodeProof, sha256, signVoteBatch } from '@/modules/gossip/vote-batch.codec';

/**
 * Batch-signed votes: one Ed25519 signature over a Merkle root per validator tick,
 * each vote verifiable on its own with its proof, tampering caught at any position.
 */
const T0 = 1_700_000_000_000;
const keys = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');

function votes(n: number, validatorId = 'v1', region = 'eu'): UnsignedVote[] {
  return Array.from({ length: n }, (_, i) => ({
    siteId: `site-${i}`,
    round: 7,
    validatorId,
    region,
    up: i % 3 !== 0,
    latencyMs: 10 + i,
    ...(i % 3 !== 0 ? { httpStatus: 200 } : { failure: 'TIMEOUT' as const }),
    checkedAt: T0 - 100,
  }));
}

function verifier(): RegistryVoteVerifier {
  const v = new RegistryVoteVerifier({ findByIds: async () => [] });
  v.remember({ id: 'v1', region: 'eu', publicKey: publicKeyToBase64(keys.publicKey) });
  return v;
}

describe('Merkle batch of votes', () => {
  it.each([1, 2, 3, 5, 8, 13, 100, 500])(
    'every proof of a %i-vote batch leads to the root, and only from its own leaf',
    (n) => {
      const leaves = votes(n).map((v) => leafHash(sha256, v));
      const { root, proofs } = buildBatch(sha256, leaves);
      proofs.forEach((p, i) => {
        expect(Buffer.from(rootFromProof(sha256, leaves[i], p)!)).toEqual(Buffer.from(root));
        const back = decodeProof(encodeProof(p))!;
        expect(Buffer.from(rootFromProof(sha256, leaves[i], back)!)).toEqual(Buffer.from(root));
        if (n > 1) {
          const other = rootFromProof(sha256, leaves[(i + 1) % n], p);
          expect(other && Buffer.from(other).equals(Buffer.from(root))).toBeFalsy();
        }
      });
    },
  );

  it('rejects proofs of the wrong shape', () => {
    const leaves = votes(5).map((v) => leafHash(sha256, v));
    const { proofs } = buildBatch(sha256, leaves);
    const p = proofs[2];
    expect(rootFromProof(sha256, leaves[2], { ...p, index: 5 })).toBeNull();
    expect(rootFromProof(sha256, leaves[2], { ...p, index: -1 })).toBeNull();
    expect(
      rootFromProof(sha256, leaves[2], { ...p, siblings: p.siblings.subarray(32) }),
    ).toBeNull();
    expect(decodeProof('1.2.abc')).toBeNull();
    expect(decodeProof('x.2.')).toBeNull();
    expect(decodeProof('1.2.' + 'A'.repeat(10_000))).toBeNull();
  });
});

describe('RegistryVoteVerifier on batch-signed votes', () => {
  it('accepts each vote of a batch with one Ed25519 check, and each alone on a fresh verifier', () => {
    const signed = signVoteBatch(keys.privateKey, 'v1', 'eu', votes(100));
    expect(new Set(signed.map((v) => v.signature)).size).toBe(1);
    const shared = verifier();
    for (const v of signed) expect(shared.verify(v)).toEqual({ ok: true });
    expect(shared.batchSignatureChecks).toBe(1);
    // Attributable alone: any single vote with its proof verifies without the others.
    for (const i of [0, 37, 99]) expect(verifier().verify(signed[i])).toEqual({ ok: true });
  });

  it.each([0, 1, 50, 99])(
    'catches a tampered vote at index %i, before and after its batch is cached',
    (i) => {
      const signed = signVoteBatch(keys.privateKey, 'v1', 'eu', votes(100));
      const tampered: GossipVote = { ...signed[i], up: !signed[i].up };
      expect(verifier().verify(tampered)).toEqual({ ok: false, reason: 'forged' });
      const warm = verifier();
      for (const v of signed) if (v !== signed[i]) expect(warm.verify(v)).toEqual({ ok: true });
      expect(warm.verify(tampered)).toEqual({ ok: false, reason: 'forged' });
      // A proof moved to another index of the cached batch does not verify either.
      const moved: GossipVote = { ...signed[i], proof: signed[(i + 1) % 100].proof };
      expect(warm.verify(moved)).toEqual({ ok: false, reason: 'forged' });
      expect(warm.verify(signed[i])).toEqual({ ok: true });
    },
  );

  it("refuses a batch signed with another key, another region, or someone else's signature", () => {
    const forged = signVoteBatch(stranger.privateKey, 'v1', 'eu', votes(10));
    expect(verifier().verify(forged[3])).toEqual({ ok: false, reason: 'forged' });
    const region = signVoteBatch(keys.privateKey, 'v1', 'us', votes(10, 'v1', 'us'));
    expect(verifier().verify(region[3])).toEqual({ ok: false, reason: 'forged' });
    const real = signVoteBatch(keys.privateKey, 'v1', 'eu', votes(10));
    const mine = signVoteBatch(
      stranger.privateKey,
      'v1',
      'eu',
      votes(10).map((v) => ({ ...v, round: 8 })),
    );
    const warm = verifier();
    expect(warm.verify(real[0])).toEqual({ ok: true });
    // Real signature, proof and vote of another tree: the root differs, so Ed25519 is asked and says no.
    expect(warm.verify({ ...mine[0], signature: real[0].signature })).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it('a new key for the validator voids what its old key signed', () => {
    const signed = signVoteBatch(keys.privateKey, 'v1', 'eu', votes(4));
    const v = verifier();
    expect(v.verify(signed[0])).toEqual({ ok: true });
    v.remember({ id: 'v1', region: 'eu', publicKey: publicKeyToBase64(stranger.publicKey) });
    expect(v.verify(signed[1])).toEqual({ ok: false, reason: 'forged' });
  });

  it('the gossip engine accepts a batch once, counts its replay and a forged copy', () => {
    const delivered: GossipVote[] = [];
    const engine = new GossipEngine(
      { now: () => T0 },
      new SeededRandom(3),
      verifier(),
      {
        self: 'n0:1',
        fanout: 1,
        rounds: 1,
        maxBatch: 500,
        maxPending: 1_000,
        maxPeerQueue: 1_000,
        maxVoteAgeMs: 60_000,
        maxFutureMs: 5_000,
        seenCapacity: 10_000,
      },
      (v) => delivered.push(v),
    );
    const signed = signVoteBatch(keys.privateKey, 'v1', 'eu', votes(20));
    const items = signed.map((vote) => ({ hops: 0, vote }));
    expect(engine.receive({ from: 'n1:1', items })).toEqual({ accepted: 20, rejected: {} });
    expect(engine.receive({ from: 'n2:1', items })).toEqual({
      accepted: 0,
      rejected: { replayed: 20 },
    });
    const forged = signVoteBatch(
      stranger.privateKey,
      'v1',
      'eu',
      votes(3).map((v) => ({ ...v, round: 9 })),
    );
    expect(
      engine.receive({ from: 'n2:1', items: forged.map((vote) => ({ hops: 0, vote })) }),
    ).toEqual({ accepted: 0, rejected: { forged: 3 } });
    expect(delivered).toHaveLength(20);
    expect(engine.stats().rejected.forged).toBe(3);
  });
});
