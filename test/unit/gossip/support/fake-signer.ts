import { canonicalVote, unsignedPart, type UnsignedVote, type Vote } from '@/core/consensus/vote';
import type { VerifyOutcome, VoteVerifier } from '@/core/gossip/gossip.types';

/**
 * Keyed-hash "signatures" for unit tests: fast and deterministic. A vote is
 * signed by validator v iff its signature is h(secret_v, canonical bytes) and
 * its region is v's. The Ed25519 adapter has its own tests.
 */
export class FakeSigner implements VoteVerifier {
  private readonly validators = new Map<string, { secret: string; region: string }>();

  register(id: string, region: string, secret = `secret-${id}`): this {
    this.validators.set(id, { secret, region });
    return this;
  }

  sign(
    v: UnsignedVote | Vote,
    secret = this.validators.get(v.validatorId)?.secret ?? 'nobody',
  ): Vote {
    const u = unsignedPart(v);
    return { ...u, signature: fakeSignature(secret, canonicalVote(u)) };
  }

  verify(vote: Vote): VerifyOutcome {
    const known = this.validators.get(vote.validatorId);
    if (!known) return { ok: false, reason: 'unknown-validator' };
    if (known.region !== vote.region) return { ok: false, reason: 'forged' };
    const ok = vote.signature === fakeSignature(known.secret, canonicalVote(vote));
    return ok ? { ok: true } : { ok: false, reason: 'forged' };
  }
}

function fakeSignature(secret: string, text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  const s = `${secret}\n${text}`;
  for (let i = 0; i < s.length; i++) {
    h1 = Math.imul(h1 ^ s.charCodeAt(i), 0x01000193);
    h2 = Math.imul(h2 ^ s.charCodeAt(i), 0x5bd1e995);
  }
  return `fake:${(h1 >>> 0).toString(16).padStart(8, '0')}${(h2 >>> 0).toString(16).padStart(8, '0')}`;
}
