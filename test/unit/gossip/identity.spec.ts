import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Vote } from '@/core/consensus/vote';
import { publicKeyFromBase64, verifyBytes } from '@/modules/gossip/ed25519';
import { RegistryVoteVerifier } from '@/modules/gossip/registry-vote-verifier';
import { joinClaimBytes, KEY_FILE, ValidatorIdentity } from '@/modules/gossip/validator-identity';
import type { ValidatorRecord } from '@/modules/gossip/validator.repository';

/** The Ed25519 identity on disk, and verification against the registry's keys. */
describe('ValidatorIdentity', () => {
  let dir: string;
  const node = { id: 'v1', region: 'eu', address: '127.0.0.1:3001' };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'identity-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is created on first boot (0600) and reused on restart', () => {
    const first = ValidatorIdentity.loadOrCreate(dir, node);
    expect(first.created).toBe(true);
    const file = join(dir, 'keys', KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = ValidatorIdentity.loadOrCreate(dir, node);
    expect(again.created).toBe(false);
    expect(again.publicKey).toBe(first.publicKey);
    expect(publicKeyFromBase64(first.publicKey)).not.toBeNull();
  });

  it('tightens a key file others can read, and refuses an unreadable one', () => {
    ValidatorIdentity.loadOrCreate(dir, node);
    const file = join(dir, 'keys', KEY_FILE);
    chmodSync(file, 0o644);
    const warnings: string[] = [];
    ValidatorIdentity.loadOrCreate(dir, node, (m) => warnings.push(m));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(1);
    writeFileSync(file, 'not a key');
    expect(() => ValidatorIdentity.loadOrCreate(dir, node)).toThrow(
      /cannot read the validator key/,
    );
  });

  it('signs votes and join claims verifiably', () => {
    const me = ValidatorIdentity.loadOrCreate(dir, node);
    const v = me.sign({ siteId: 's1', round: 3, up: true, latencyMs: 5, checkedAt: 1_000 });
    expect(v).toMatchObject({ validatorId: 'v1', region: 'eu', signature: expect.any(String) });
    const claim = me.joinClaim(123);
    const { proof, ...fields } = claim;
    expect(verifyBytes(publicKeyFromBase64(claim.publicKey)!, joinClaimBytes(fields), proof)).toBe(
      true,
    );
    expect(
      verifyBytes(
        publicKeyFromBase64(claim.publicKey)!,
        joinClaimBytes({ ...fields, at: 124 }),
        proof,
      ),
    ).toBe(false);
  });
});

describe('RegistryVoteVerifier', () => {
  let dir: string;
  let me: ValidatorIdentity;
  let other: ValidatorIdentity;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'verifier-'));
    me = ValidatorIdentity.loadOrCreate(join(dir, 'a'), { id: 'v1', region: 'eu', address: 'a:1' });
    other = ValidatorIdentity.loadOrCreate(join(dir, 'b'), {
      id: 'v2',
      region: 'us',
      address: 'b:1',
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const base = { siteId: 's1', round: 3, up: true, latencyMs: 5, checkedAt: 1_000 };

  function setup() {
    let now = 0;
    const rows: ValidatorRecord[] = [
      { id: 'v1', region: 'eu', publicKey: me.publicKey, address: 'a:1', lastSeenAt: new Date() },
    ];
    const calls: string[][] = [];
    const verifier = new RegistryVoteVerifier(
      {
        findByIds: async (ids) => {
          calls.push([...ids]);
          return rows.filter((r) => ids.includes(r.id));
        },
      },
      () => now,
    );
    return { verifier, calls, rows, advance: (ms: number) => (now += ms) };
  }

  it('accepts only the registered key, from the registered region', async () => {
    const { verifier } = setup();
    const v = me.sign(base);
    expect(verifier.verify(v)).toEqual({ ok: false, reason: 'unknown-validator' });
    await verifier.ensureKnown(['v1']);
    expect(verifier.verify(v)).toEqual({ ok: true });
    expect(verifier.verify({ ...v, up: false })).toEqual({ ok: false, reason: 'forged' });
    expect(verifier.verify({ ...v, signature: undefined })).toEqual({
      ok: false,
      reason: 'forged',
    });
    expect(verifier.verify({ ...v, signature: 'x'.repeat(88) })).toEqual({
      ok: false,
      reason: 'forged',
    });
    // v2's key, claiming to be v1
    const claim: Vote = { ...other.sign(base), validatorId: 'v1', region: 'us' };
    expect(verifier.verify(claim)).toEqual({ ok: false, reason: 'forged' });
    const resigned = other.sign(base);
    expect(verifier.verify({ ...resigned, validatorId: 'v1', region: 'eu' })).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it('looks unknown ids up once, remembers misses for a few seconds, and follows re-keys', async () => {
    const { verifier, calls, rows, advance } = setup();
    await verifier.ensureKnown(['v1', 'v2', 'v2']);
    await verifier.ensureKnown(['v1', 'v2']);
    expect(calls).toEqual([['v1', 'v2']]);
    rows.push({
      id: 'v2',
      region: 'us',
      publicKey: other.publicKey,
      address: 'b:1',
      lastSeenAt: new Date(),
    });
    advance(5_000);
    await verifier.ensureKnown(['v2']);
    expect(verifier.verify(other.sign(base))).toEqual({ ok: true });
    expect(verifier.remember({ id: 'v2', region: 'us', publicKey: me.publicKey })).toBe(true);
    expect(verifier.verify(other.sign(base))).toEqual({ ok: false, reason: 'forged' });
    expect(verifier.remember({ id: 'v3', region: 'us', publicKey: 'garbage' })).toBe(false);
    verifier.replaceAll([{ id: 'v1', region: 'eu', publicKey: me.publicKey }]);
    expect(verifier.size).toBe(1);
  });
});
