import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrismaService } from '@/infra/database/prisma.service';
import { RegistryVoteVerifier } from '@/modules/gossip/registry-vote-verifier';
import { ValidatorIdentity } from '@/modules/gossip/validator-identity';
import { ValidatorRepository } from '@/modules/gossip/validator.repository';
import { createTestDatabase, TestDatabase } from '../support/db';

/** The validators registry on a real PostgreSQL, and vote verification against it. */
jest.setTimeout(60_000);

describe('validators registry (PostgreSQL)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let repo: ValidatorRepository;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ connectionString: db.url, poolSize: 2, embedded: false });
    await prisma.onModuleInit();
    repo = new ValidatorRepository(prisma);
    dir = mkdtempSync(join(tmpdir(), 'registry-'));
  });
  afterAll(async () => {
    await prisma?.onApplicationShutdown();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers, updates, re-keys and touches validators', async () => {
    const a = ValidatorIdentity.loadOrCreate(join(dir, 'a'), {
      id: 'va',
      region: 'eu',
      address: 'h:1',
    });
    const a2 = ValidatorIdentity.loadOrCreate(join(dir, 'a2'), {
      id: 'va',
      region: 'eu',
      address: 'h:1',
    });
    const t0 = new Date('2026-01-01T00:00:00Z');
    const row = { id: 'va', region: 'eu', publicKey: a.publicKey, address: 'h:1' };
    expect(await repo.register(row, t0)).toBe('created');
    expect(await repo.register({ ...row, address: 'h:2' }, t0)).toBe('updated');
    // a different key is refused without proof from the old key (or ALLOW_REKEY), and changes nothing
    expect(await repo.register({ ...row, publicKey: a2.publicKey }, t0)).toBe('key-mismatch');
    expect((await repo.findAll())[0].publicKey).toBe(a.publicKey);
    expect(await repo.register({ ...row, publicKey: a2.publicKey }, t0, true)).toBe('rekeyed');
    expect(await repo.touch('va', new Date('2026-01-01T00:00:10Z'))).toBe(true);
    expect(await repo.touch('va', new Date('2026-01-01T00:00:05Z'))).toBe(false); // never backwards
    expect(await repo.touch('nobody', new Date())).toBe(false);
    expect(await repo.findAll()).toEqual([
      {
        id: 'va',
        region: 'eu',
        publicKey: a2.publicKey,
        address: 'h:1',
        lastSeenAt: new Date('2026-01-01T00:00:10Z'),
      },
    ]);
    expect(await repo.findByIds([])).toEqual([]);
  });

  it('verifies votes against the keys in the registry', async () => {
    const b = ValidatorIdentity.loadOrCreate(join(dir, 'b'), {
      id: 'vb',
      region: 'us',
      address: 'h:3',
    });
    await repo.register(
      { id: 'vb', region: 'us', publicKey: b.publicKey, address: 'h:3' },
      new Date(),
    );
    const verifier = new RegistryVoteVerifier(repo);
    const v = b.sign({ siteId: 's1', round: 1, up: true, latencyMs: 3, checkedAt: 1 });
    await verifier.ensureKnown(['vb', 'ghost']);
    expect(verifier.verify(v)).toEqual({ ok: true });
    expect(verifier.verify({ ...v, validatorId: 'ghost' })).toEqual({
      ok: false,
      reason: 'unknown-validator',
    });
  });
});
