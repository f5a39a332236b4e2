/**
 * The Ed25519 + SHA-256 adapter of core/gossip/vote-batch: signs a validator's
 * votes of one tick under one signature, encodes each vote's proof for the wire,
 * and verifies proofs with a bounded cache of roots whose signature already
 * checked, so a batch costs one Ed25519 verification however many votes it holds.
 */
import { hash, type KeyObject } from 'node:crypto';
import { unsignedPart, type UnsignedVote } from '@/core/consensus/vote';
import {
  buildBatch,
  HASH_BYTES,
  leafHash,
  rootSigningBytes,
  walkProof,
  type BatchProof,
  type HashFn,
} from '@/core/gossip/vote-batch';
import type { GossipVote } from '@/core/gossip/gossip.types';
import { signBytes, verifyBytes } from './ed25519';

export const sha256: HashFn = (bytes) => hash('sha256', bytes, 'buffer');

/** index.size.base64 — longest for a 65,536-vote batch: 16 hashes. */
export const PROOF_PATTERN = /^\d{1,5}\.\d{1,5}\.[A-Za-z0-9+/]*={0,2}$/;
export const MAX_PROOF_CHARS = 12 + Math.ceil((16 * HASH_BYTES) / 3) * 4;

export function encodeProof(p: BatchProof): string {
  const b64 = Buffer.from(p.siblings.buffer, p.siblings.byteOffset, p.siblings.byteLength);
  return `${p.index}.${p.size}.${b64.toString('base64')}`;
}

/** The proof in `text`, or null; the HTTP schema checks PROOF_PATTERN already, this re-checks the shape. */
export function decodeProof(text: string): BatchProof | null {
  if (text.length > MAX_PROOF_CHARS) return null;
  const a = text.indexOf('.');
  const b = text.indexOf('.', a + 1);
  if (a < 1 || b < a + 2 || a > 5 || b - a > 6) return null;
  const index = Number(text.slice(0, a));
  const size = Number(text.slice(a + 1, b));
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size)) return null;
  const b64 = text.slice(b + 1);
  if (b64.length % 4 !== 0) return null;
  const siblings = Buffer.from(b64, 'base64');
  // Node's decoder skips junk; a round trip catches anything that was not canonical base64.
  if (siblings.length % HASH_BYTES !== 0 || Math.ceil(siblings.length / 3) * 4 !== b64.length)
    return null;
  return { index, size, siblings };
}

/** Signs `votes` (all this validator's) as one batch: one signature, a proof per vote. */
export function signVoteBatch(
  privateKey: KeyObject,
  validatorId: string,
  region: string,
  votes: readonly UnsignedVote[],
): GossipVote[] {
  const parts = votes.map((v) => unsignedPart({ ...v, validatorId, region }));
  const { root, proofs } = buildBatch(
    sha256,
    parts.map((v) => leafHash(sha256, v)),
  );
  const signature = signBytes(
    privateKey,
    rootSigningBytes(validatorId, region, parts.length, root),
  );
  return parts.map((v, i) => ({ ...v, signature, proof: encodeProof(proofs[i]) }));
}

/** batches whose verified nodes are remembered */
const BATCH_CACHE = 1_024;

interface VerifiedBatch {
  readonly size: number;
  /** (level << 17 | position) -> hash proven to be in the signed tree */
  readonly nodes: Map<number, Uint8Array>;
}

const nodeKey = (level: number, position: number) => level * 131_072 + position;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/**
 * Verifies batch proofs. The tree nodes a verified proof passed through are
 * remembered per batch (bounded, oldest batch out), so the next vote of the batch
 * climbs only until it meets a proven node: about two hashes per vote, and one
 * Ed25519 verification per batch.
 */
export class BatchProofVerifier {
  /** `${validatorId}\n${signature}` -> the batch's proven nodes */
  private readonly batches = new Map<string, VerifiedBatch>();
  /** Ed25519 verifications performed (one per batch when votes arrive whole) */
  signatureChecks = 0;

  verify(key: KeyObject, vote: GossipVote, proofText: string): boolean {
    const signature = vote.signature;
    if (!signature) return false;
    const proof = decodeProof(proofText);
    if (!proof) return false;
    const cacheKey = `${vote.validatorId}\n${signature}`;
    const cached = this.batches.get(cacheKey);
    const batch = cached && cached.size === proof.size ? cached : undefined;
    const walk = walkProof(sha256, leafHash(sha256, vote), proof, (level, position, hash) => {
      const n = batch?.nodes.get(nodeKey(level, position));
      return n !== undefined && sameBytes(n, hash);
    });
    if (!walk) return false;
    const top = walk.nodes[walk.nodes.length - 1];
    if (!walk.stoppedAtKnown) {
      const root = batch?.nodes.get(nodeKey(top.level, 0));
      if (!root || !sameBytes(root, top.hash)) {
        this.signatureChecks++;
        const bytes = rootSigningBytes(vote.validatorId, vote.region, proof.size, top.hash);
        if (!verifyBytes(key, bytes, signature)) return false;
      }
    }
    let into = batch;
    if (!into) {
      if (this.batches.size >= BATCH_CACHE) this.batches.delete(this.batches.keys().next().value!);
      into = { size: proof.size, nodes: new Map() };
      this.batches.set(cacheKey, into);
    }
    // Leaves are not kept: only a replay of the same vote would meet one (the seen-set's job).
    for (const n of walk.nodes)
      if (n.level > 0) into.nodes.set(nodeKey(n.level, n.position), n.hash);
    return true;
  }

  /** A validator's key changed: what it signed before no longer counts. */
  forget(validatorId: string): void {
    for (const k of this.batches.keys())
      if (k.startsWith(`${validatorId}\n`)) this.batches.delete(k);
  }
}
