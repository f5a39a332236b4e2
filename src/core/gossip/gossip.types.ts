/**
 * The gossip wire vocabulary and its ports. Invariant: a vote reaches a tally only
 * after a VoteVerifier said ok; the verifier is a port so the core stays pure
 * (the Nest adapter checks Ed25519 signatures against the validators registry).
 */
import type { Vote } from '@/core/consensus/vote';

/**
 * A vote as gossip carries it. `signature` signs either the vote alone (no proof)
 * or the Merkle root of its validator's batch (see vote-batch.ts), with `proof`
 * = "index.size.base64(siblings)" leading from this vote to that root.
 */
export interface GossipVote extends Vote {
  readonly proof?: string;
}

/** One vote in flight, with the number of hops it has travelled (0 = from its signer). */
export interface GossipItem {
  readonly hops: number;
  readonly vote: GossipVote;
}

/** What one node pushes to another in one request. */
export interface GossipMessage {
  /** the sender's gossip address (host:port), so receivers don't echo votes back */
  readonly from: string;
  readonly items: readonly GossipItem[];
}

/**
 * Why a vote was dropped before the tally:
 *  malformed          fields out of range (only reachable from non-schema callers)
 *  unsigned           no signature
 *  too-old / future   checkedAt outside [now - maxVoteAgeMs, now + maxFutureMs]
 *  replayed           this exact vote was seen already (a benign gossip duplicate looks the same)
 *  unknown-validator  no such validator in the registry
 *  forged             the signature does not verify, or the region is not the validator's
 *  conflicting        a valid signature on a different vote for the same (site, round, validator)
 *  overflow           beyond the per-message cap
 */
export const REJECT_REASONS = [
  'malformed',
  'unsigned',
  'too-old',
  'future',
  'replayed',
  'unknown-validator',
  'forged',
  'conflicting',
  'overflow',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type VerifyOutcome =
  { readonly ok: true } | { readonly ok: false; readonly reason: 'unknown-validator' | 'forged' };

/** Checks a vote's signature against its validator's registered key. Must not throw. */
export interface VoteVerifier {
  verify(vote: GossipVote): VerifyOutcome;
}

export interface ReceiveReport {
  accepted: number;
  rejected: Partial<Record<RejectReason, number>>;
}

export interface OutgoingMessage {
  readonly to: string;
  readonly message: GossipMessage;
}
