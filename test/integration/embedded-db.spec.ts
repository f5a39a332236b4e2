// The embedded database (PGlite over pglite-socket) as a node without DATABASE_URL uses it: migrated on
// boot, written through Prisma, closed, reopened on the same DATA_DIR with the data intact; guarded
// against a second process and a second connection.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Test, TestingModule } from '@nestjs/testing';
import { Client } from 'pg';
import { loadConfig } from '@/config/app-config';
import { ConfigModule } from '@/config/config.module';
import { DatabaseModule } from '@/infra/database/database.module';
import { EmbeddedPostgres, startEmbeddedPostgres } from '@/infra/database/embedded-postgres';
import { migrate } from '@/infra/database/migrator';
import { PrismaService } from '@/infra/database/prisma.service';

jest.setTimeout(120_000);

async function bootNode(dataDir: string): Promise<TestingModule> {
  const config = loadConfig({ DATA_DIR: dataDir, MIGRATE_ON_BOOT: 'true' });
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), DatabaseModule],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

/** Records what `probe` says at the moment Prisma disconnects. */
function observeDisconnect(prisma: PrismaService, probe: () => boolean): () => boolean | undefined {
  let seen: boolean | undefined;
  const original = prisma.$disconnect.bind(prisma);
  jest.spyOn(prisma, '$disconnect').mockImplementation(() => {
    seen ??= probe();
    return original();
  });
  return () => seen;
}

describe('embedded PostgreSQL', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'uptime-embedded-'));
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps what was written across a clean shutdown and restart', async () => {
    const first = await bootNode(dataDir);
    const written = await first.get(PrismaService).user.create({
      data: { email: 'persist@example.com', passwordHash: 'x' },
    });
    const serverRunning = () => existsSync(path.join(dataDir, 'pglite.lock'));
    const serverRunningAtDisconnect = observeDisconnect(first.get(PrismaService), serverRunning);
    await first.close();
    // Shutdown order: Prisma let go while the server still ran, then the server stopped.
    expect(serverRunningAtDisconnect()).toBe(true);
    expect(serverRunning()).toBe(false);

    const second = await bootNode(dataDir);
    try {
      const prisma = second.get(PrismaService);
      expect(await prisma.user.findUnique({ where: { id: written.id } })).toEqual(written);
      const history = await prisma.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM _prisma_migrations`;
      expect(history[0].n).toBeGreaterThan(0); // applied once, not again on the second boot
      await expect(prisma.ping()).resolves.toBeUndefined();
    } finally {
      await second.close();
    }
  });

  describe('while open', () => {
    let openDir: string;
    let db: EmbeddedPostgres;
    let prisma: PrismaService;

    beforeAll(async () => {
      openDir = mkdtempSync(path.join(tmpdir(), 'uptime-embedded-open-'));
      db = await startEmbeddedPostgres({ dataDir: openDir });
      await migrate(db.url);
      prisma = new PrismaService({ connectionString: db.url, poolSize: 10, embedded: true });
      await prisma.$connect();
    });
    afterAll(async () => {
      await prisma?.$disconnect();
      await db?.stop();
      rmSync(openDir, { recursive: true, force: true });
    });

    it('listens on a Unix socket in a 0700 directory, never on TCP', async () => {
      expect(db.url).toMatch(/^postgresql:\/\/postgres@localhost\/postgres\?host=/);
      expect(statSync(db.socketDir).mode & 0o777).toBe(0o700);
      expect(statSync(path.join(db.socketDir, '.s.PGSQL.5432')).isSocket()).toBe(true);
      // No listening TCP socket belongs to this process (PGlite runs in one of its threads).
      const inodes = new Set(
        readdirSync('/proc/self/fd')
          .map((fd) => {
            try {
              return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
            } catch {
              return undefined;
            }
          })
          .filter((x): x is string => x !== undefined),
      );
      const listening = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .slice(1)
          .map((l) => l.trim().split(/\s+/))
          .filter((cols) => cols[3] === '0A' && inodes.has(cols[9])),
      );
      expect(listening).toEqual([]);
    });

    it('refuses a second process on the same data directory', async () => {
      await expect(startEmbeddedPostgres({ dataDir: openDir })).rejects.toThrow(
        /already open in process \d+; give each node its own DATA_DIR/,
      );
    });

    it('serves exactly one connection, which Prisma holds (pool of one)', async () => {
      await prisma.ping(); // the pool's single connection is now open and kept
      const intruder = new Client({ connectionString: db.url, connectionTimeoutMillis: 5_000 });
      await expect(intruder.connect()).rejects.toThrow(/Connection terminated|ECONNRESET|EPIPE/);
      await intruder.end().catch(() => undefined);

      // Prisma queues its own concurrent queries on that one connection instead.
      const results = await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => prisma.$queryRaw<{ v: number }[]>`SELECT ${i}::int AS v`,
        ),
      );
      expect(results.map((r) => r[0].v)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });
  });

  it('takes over the lock a crashed (kill -9) process left behind', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid;
    writeFileSync(path.join(dataDir, 'pglite.lock'), `${dead}\n`);

    const db = await startEmbeddedPostgres({ dataDir });
    await db.stop();
  });
});
