/**
 * VoteVerifier over the validators registry: a vote verifies only with the
 * Ed25519 key registered for its validator id and only from that validator's
 * region. A vote with a proof is checked against its batch's signed root (one
 * Ed25519 verification per batch); one without, against its own signature. Keys are cached; an unknown id is looked up before the (synchronous)
 * gossip core checks a batch, and a miss is remembered briefly so junk ids
 * cannot turn every request into a database query.
 */
import type { KeyObject } from 'node:crypto';
import { voteSigningBytes } from '@/core/consensus/vote';
import type { GossipVote, VerifyOutcome, VoteVerifier } from '@/core/gossip/gossip.types';
import { publicKeyFromBase64, verifyBytes } from './ed25519';
import { BatchProofVerifier } from './vote-batch.codec';
import type { ValidatorRecord } from './validator.repository';

interface Known {
  region: string;
  publicKey: string;
  key: KeyObject;
}

export interface RegistryReader {
  findByIds(ids: readonly string[]): Promise<ValidatorRecord[]>;
}

const MISS_TTL_MS = 5_000;
const MAX_MISSES = 10_000;

export class RegistryVoteVerifier implements VoteVerifier {
  private readonly known = new Map<string, Known>();
  /** id -> until when "not in the registry" is believed */
  private readonly misses = new Map<string, number>();
  private readonly batches = new BatchProofVerifier();

  constructor(
    private readonly registry: RegistryReader,
    private readonly now: () => number = Date.now,
  ) {}

  verify(vote: GossipVote): VerifyOutcome {
    const k = this.known.get(vote.validatorId);
    if (!k) return { ok: false, reason: 'unknown-validator' };
    if (k.region !== vote.region || !vote.signature) return { ok: false, reason: 'forged' };
    const ok =
      vote.proof !== undefined
        ? this.batches.verify(k.key, vote, vote.proof)
        : verifyBytes(k.key, voteSigningBytes(vote), vote.signature);
    return ok ? { ok: true } : { ok: false, reason: 'forged' };
  }

  /** Ed25519 checks of batch roots so far (one per batch, not per vote). */
  get batchSignatureChecks(): number {
    return this.batches.signatureChecks;
  }

  /** Loads the keys of ids not cached (and not recently missed) from the registry. */
  async ensureKnown(ids: Iterable<string>): Promise<void> {
    const now = this.now();
    const missing = [...new Set(ids)].filter((id) => {
      if (this.known.has(id)) return false;
      const until = this.misses.get(id);
      return until === undefined || until <= now;
    });
    if (missing.length === 0) return;
    const found = await this.registry.findByIds(missing);
    for (const r of found) this.remember(r);
    for (const id of missing) {
      if (this.known.has(id)) continue;
      if (this.misses.size >= MAX_MISSES) this.misses.delete(this.misses.keys().next().value!);
      this.misses.set(id, now + MISS_TTL_MS);
    }
  }

  /** Caches (or replaces) a validator's key; false if the stored key is unusable. */
  remember(r: Pick<ValidatorRecord, 'id' | 'region' | 'publicKey'>): boolean {
    const prev = this.known.get(r.id);
    if (prev && prev.publicKey === r.publicKey && prev.region === r.region) return true;
    const key = publicKeyFromBase64(r.publicKey);
    if (!key) {
      this.known.delete(r.id);
      this.batches.forget(r.id);
      return false;
    }
    if (prev) this.batches.forget(r.id);
    this.known.set(r.id, { region: r.region, publicKey: r.publicKey, key });
    this.misses.delete(r.id);
    return true;
  }

  /** Replaces the whole cache with the registry's current content. */
  replaceAll(records: readonly Pick<ValidatorRecord, 'id' | 'region' | 'publicKey'>[]): void {
    const ids = new Set(records.map((r) => r.id));
    for (const id of this.known.keys())
      if (!ids.has(id)) {
        this.known.delete(id);
        this.batches.forget(id);
      }
    for (const r of records) this.remember(r);
  }

  get size(): number {
    return this.known.size;
  }
}
