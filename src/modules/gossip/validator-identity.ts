/**
 * This validator's Ed25519 identity, kept in DATA_DIR/keys: created on first boot
 * (the file is written 0600 and renamed into place, so a crash never leaves half
 * a key), reused on every restart. A key file that exists but cannot be read is a
 * boot error: silently minting a new identity would orphan the registered one.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { join } from 'node:path';
import {
  unsignedPart,
  voteSigningBytes,
  type UnsignedVote,
  type Vote,
} from '@/core/consensus/vote';
import type { GossipVote } from '@/core/gossip/gossip.types';
import { publicKeyToBase64, signBytes } from './ed25519';
import { signVoteBatch } from './vote-batch.codec';

export const KEY_FILE = 'validator-ed25519.pem';

/** What a validator presents to join: signed with its own key (proof of possession). */
export interface JoinClaim {
  id: string;
  region: string;
  /** base64 raw Ed25519 public key */
  publicKey: string;
  /** host:port peers reach it at */
  address: string;
  /** epoch ms when the claim was made */
  at: number;
}

export function joinClaimBytes(c: JoinClaim): Uint8Array {
  return new TextEncoder().encode(
    `uptime-join/v1\n${JSON.stringify([c.id, c.region, c.publicKey, c.address, c.at])}`,
  );
}

/** What the OLD key signs to vouch for a new one (JoinDto.rekeyProof). */
export function rekeyProofBytes(c: JoinClaim): Uint8Array {
  return new TextEncoder().encode(
    `uptime-rekey/v1\n${JSON.stringify([c.id, c.region, c.publicKey, c.address, c.at])}`,
  );
}

export class ValidatorIdentity {
  readonly publicKey: string;

  constructor(
    readonly id: string,
    readonly region: string,
    readonly address: string,
    private readonly privateKey: KeyObject,
    /** true when this boot generated the key */
    readonly created = false,
  ) {
    this.publicKey = publicKeyToBase64(createPublicKey(privateKey));
  }

  /** Loads DATA_DIR/keys/validator-ed25519.pem, or creates it on first boot. */
  static loadOrCreate(
    dataDir: string,
    node: { id: string; region: string; address: string },
    warn: (message: string) => void = () => undefined,
  ): ValidatorIdentity {
    const dir = join(dataDir, 'keys');
    const file = join(dir, KEY_FILE);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (existsSync(file)) {
      const mode = statSync(file).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        warn(`${file} was readable by others (mode ${mode.toString(8)}); tightened to 600`);
        chmodSync(file, 0o600);
      }
      let key: KeyObject;
      try {
        key = createPrivateKey(readFileSync(file));
      } catch (e) {
        throw new Error(`cannot read the validator key ${file}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      if (key.asymmetricKeyType !== 'ed25519')
        throw new Error(`${file} holds a ${key.asymmetricKeyType} key, expected ed25519`);
      return new ValidatorIdentity(node.id, node.region, node.address, key);
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, privateKey.export({ format: 'pem', type: 'pkcs8' }), {
      mode: 0o600,
      flag: 'wx',
    });
    renameSync(tmp, file);
    return new ValidatorIdentity(node.id, node.region, node.address, privateKey, true);
  }

  /** The private key, for ClusterAuth's pairwise request keys (never leaves the process). */
  agreementKey(): KeyObject {
    return this.privateKey;
  }

  /** Signs a vote this validator made. */
  sign(v: Omit<UnsignedVote, 'validatorId' | 'region'>): Vote {
    const unsigned = unsignedPart({ ...v, validatorId: this.id, region: this.region });
    return { ...unsigned, signature: signBytes(this.privateKey, voteSigningBytes(unsigned)) };
  }

  /** Signs votes this validator made as one batch: one signature, each vote with its proof. */
  signBatch(votes: readonly Omit<UnsignedVote, 'validatorId' | 'region'>[]): GossipVote[] {
    return signVoteBatch(
      this.privateKey,
      this.id,
      this.region,
      votes.map((v) => ({ ...v, validatorId: this.id, region: this.region })),
    );
  }

  /** The claim this validator joins with, signed. */
  joinClaim(at: number): JoinClaim & { proof: string } {
    const claim: JoinClaim = {
      id: this.id,
      region: this.region,
      publicKey: this.publicKey,
      address: this.address,
      at,
    };
    return { ...claim, proof: signBytes(this.privateKey, joinClaimBytes(claim)) };
  }
}
