/**
 * Where verified votes go: the gossip module hands every accepted vote (its own
 * and its peers') here, and tells it which validators are live. Only votes that
 * passed signature verification may be submitted.
 */
import type { RosterEntry } from '@/core/consensus/round-tally';
import type { Vote } from '@/core/consensus/vote';

export abstract class VoteInbox {
  /** A verified vote. Must not throw or block: gossip calls it inline. */
  abstract submit(vote: Vote): void;
  /**
   * The live validators. A round completes before its deadline only once all of
   * them voted and at least `expected` validators are listed (fewer means the
   * roster is still incomplete, e.g. just after boot).
   */
  abstract setRoster(validators: readonly RosterEntry[], expected?: number): void;
}
