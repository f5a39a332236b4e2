/**
 * Batch signatures for votes. A validator signs, once per gossip tick, the Merkle
 * root of the votes it made; each vote travels with its inclusion proof, so a
 * receiver checks one Ed25519 signature per batch and every vote stays
 * attributable (and re-verifiable) on its own. Invariant: a proof yields the
 * signed root only for the exact canonical vote at its index in a tree of that
 * size; leaves and inner nodes are domain-separated (0x00 / 0x01, RFC 6962 style).
 */
import { canonicalVote, type UnsignedVote } from '@/core/consensus/vote';

/** A 32-byte collision-resistant hash (SHA-256 in production); pure. */
export type HashFn = (bytes: Uint8Array) => Uint8Array;

export const HASH_BYTES = 32;
/** The largest batch one signature may cover (depth 16). */
export const MAX_BATCH_LEAVES = 65_536;
const ROOT_DOMAIN = 'uptime-vote-root/v1';
const utf8 = new TextEncoder();

export interface BatchProof {
  readonly index: number;
  readonly size: number;
  /**
   * sibling hashes from the leaf upwards, concatenated (HASH_BYTES each); a level
   * where the node has no sibling has none
   */
  readonly siblings: Uint8Array;
}

// Scratch space for hash inputs: HashFn consumes its input synchronously, and this runs
// once per vote, so reusing the buffers keeps the garbage collector out of the hot path.
let leafScratch = new Uint8Array(1_024);
const nodeScratch = new Uint8Array(1 + 2 * HASH_BYTES);

export function leafHash(hash: HashFn, vote: UnsignedVote): Uint8Array {
  const text = canonicalVote(vote);
  // UTF-8 takes at most 3 bytes per UTF-16 unit.
  if (leafScratch.length < 1 + 3 * text.length) leafScratch = new Uint8Array(1 + 3 * text.length);
  leafScratch[0] = 0;
  const { written } = utf8.encodeInto(text, leafScratch.subarray(1));
  return hash(leafScratch.subarray(0, 1 + written));
}

function nodeHash(hash: HashFn, left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeScratch[0] = 1;
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_BYTES);
  return hash(nodeScratch);
}

/** What the validator's key signs: the root, bound to the signer, its region and the batch size. */
export function rootSigningBytes(
  validatorId: string,
  region: string,
  size: number,
  root: Uint8Array,
): Uint8Array {
  const head = utf8.encode(`${ROOT_DOMAIN}\n${validatorId}\n${region}\n${size}\n`);
  const bytes = new Uint8Array(head.length + root.length);
  bytes.set(head);
  bytes.set(root, head.length);
  return bytes;
}

/**
 * The tree over `leaves` (an odd last node is promoted unchanged), its root and
 * one proof per leaf.
 */
export function buildBatch(
  hash: HashFn,
  leaves: readonly Uint8Array[],
): { root: Uint8Array; proofs: BatchProof[] } {
  const size = leaves.length;
  if (size < 1 || size > MAX_BATCH_LEAVES) throw new RangeError(`batch of ${size} votes`);
  const levels: Uint8Array[][] = [leaves.slice()];
  while (levels[levels.length - 1].length > 1) {
    const cur = levels[levels.length - 1];
    const next: Uint8Array[] = [];
    for (let j = 0; j < cur.length; j += 2)
      next.push(j + 1 < cur.length ? nodeHash(hash, cur[j], cur[j + 1]) : cur[j]);
    levels.push(next);
  }
  const proofs = leaves.map((_, index): BatchProof => {
    const siblings: Uint8Array[] = [];
    let p = index;
    for (let l = 0; l < levels.length - 1; l++) {
      const level = levels[l];
      if (p % 2 === 1) siblings.push(level[p - 1]);
      else if (p + 1 < level.length) siblings.push(level[p + 1]);
      p >>= 1;
    }
    const flat = new Uint8Array(siblings.length * HASH_BYTES);
    siblings.forEach((h, i) => flat.set(h, i * HASH_BYTES));
    return { index, size, siblings: flat };
  });
  return { root: levels[levels.length - 1][0], proofs };
}

/** One node on a proof's way up: its level (0 = leaves), position and hash. */
export interface PathNode {
  readonly level: number;
  readonly position: number;
  readonly hash: Uint8Array;
}

/**
 * Walks a proof from `leaf` upwards. `known(level, position, hash)` may stop the
 * walk early: it says whether that node is already proven part of the signed
 * tree (then the walk returns it as the end). Returns the nodes computed (the
 * last is the root, or the known node the walk stopped at), or null if the
 * proof has the wrong shape.
 */
export function walkProof(
  hash: HashFn,
  leaf: Uint8Array,
  proof: BatchProof,
  known: (level: number, position: number, hash: Uint8Array) => boolean = () => false,
): { nodes: PathNode[]; stoppedAtKnown: boolean } | null {
  const { index, size, siblings } = proof;
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_BATCH_LEAVES) return null;
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) return null;
  if (siblings.length % HASH_BYTES !== 0) return null;
  const count = siblings.length / HASH_BYTES;
  const sibling = (k: number) =>
    k < count ? siblings.subarray(k * HASH_BYTES, (k + 1) * HASH_BYTES) : undefined;
  let cur = leaf;
  let p = index;
  let w = size;
  let k = 0;
  let level = 0;
  const nodes: PathNode[] = [{ level, position: p, hash: cur }];
  while (w > 1) {
    if (p % 2 === 1) {
      const s = sibling(k++);
      if (!s) return null;
      cur = nodeHash(hash, s, cur);
    } else if (p + 1 < w) {
      const s = sibling(k++);
      if (!s) return null;
      cur = nodeHash(hash, cur, s);
    }
    p >>= 1;
    w = Math.ceil(w / 2);
    level++;
    nodes.push({ level, position: p, hash: cur });
    if (w > 1 && known(level, p, cur)) {
      // The rest of the path is already proven; it must still have the right length.
      return remainingSiblings(p, w) === count - k ? { nodes, stoppedAtKnown: true } : null;
    }
  }
  return k === count ? { nodes, stoppedAtKnown: false } : null;
}

/** How many siblings a proof needs from position p in a level of width w to the root. */
function remainingSiblings(p: number, w: number): number {
  let n = 0;
  while (w > 1) {
    if (p % 2 === 1 || p + 1 < w) n++;
    p >>= 1;
    w = Math.ceil(w / 2);
  }
  return n;
}

/** The root a proof leads to from `leaf`, or null if the proof has the wrong shape. */
export function rootFromProof(
  hash: HashFn,
  leaf: Uint8Array,
  proof: BatchProof,
): Uint8Array | null {
  const walk = walkProof(hash, leaf, proof);
  return walk ? walk.nodes[walk.nodes.length - 1].hash : null;
}
