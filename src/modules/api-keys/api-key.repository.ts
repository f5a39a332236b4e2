import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { PrismaService } from '@/infra/database/prisma.service';
import { isUniqueViolation } from '@/infra/database/prisma-errors';
import type { ApiKeyScope } from '@/modules/auth/api-key-verifier';

export interface ApiKeyRecord {
  id: string;
  ownerId: string;
  name: string;
  scope: ApiKeyScope;
  hint: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
}

/** What verifying a presented key needs: the key, its owner's e-mail and token version. */
export interface ApiKeyOwner {
  id: string;
  ownerId: string;
  scope: ApiKeyScope;
  expiresAt: Date | null;
  ownerEmail: string;
  ownerTokenVersion: number;
}

export interface NewApiKey {
  ownerId: string;
  name: string;
  scope: ApiKeyScope;
  keyHash: Buffer;
  hint: string;
  expiresAt: Date;
}

/** First key of the advisory lock that serialises one owner's key creations (the second: the owner). */
const LOCK_NAMESPACE = 15_001;

/** Prisma's Bytes fields take a Uint8Array over a plain ArrayBuffer. */
const bytes = (b: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(b);

const toScope = (s: 'READ' | 'WRITE'): ApiKeyScope => (s === 'READ' ? 'read' : 'write');
const fromScope = (s: ApiKeyScope): 'READ' | 'WRITE' => (s === 'read' ? 'READ' : 'WRITE');

const PUBLIC_FIELDS = {
  id: true,
  ownerId: true,
  name: true,
  scope: true,
  hint: true,
  expiresAt: true,
  lastUsedAt: true,
  createdAt: true,
} as const;

@Injectable()
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Inserts the key unless the owner already holds `limit` unexpired keys (QUOTA_EXCEEDED) or
   * one of that name (CONFLICT). An advisory lock per owner makes count-then-insert atomic
   * across every node sharing the database.
   */
  async create(input: NewApiKey, limit: number, now: Date): Promise<ApiKeyRecord> {
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}::int, hashtext(${input.ownerId}))) l`;
        const held = await tx.apiKey.count({
          where: { ownerId: input.ownerId, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
        });
        if (held >= limit)
          throw new DomainError(
            'QUOTA_EXCEEDED',
            `at most ${limit} unexpired API keys per account (MAX_API_KEYS_PER_USER)`,
          );
        return tx.apiKey.create({
          data: { ...input, keyHash: bytes(input.keyHash), scope: fromScope(input.scope) },
          select: PUBLIC_FIELDS,
        });
      });
      return { ...row, scope: toScope(row.scope) };
    } catch (e) {
      if (isUniqueViolation(e))
        throw new DomainError('CONFLICT', `an API key named "${input.name}" exists already`);
      throw e;
    }
  }

  async listByOwner(ownerId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.prisma.apiKey.findMany({
      where: { ownerId },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: PUBLIC_FIELDS,
    });
    return rows.map((r) => ({ ...r, scope: toScope(r.scope) }));
  }

  /** Deletes the owner's key; false when the owner has no key of that id. */
  async deleteOwned(ownerId: string, id: string): Promise<boolean> {
    const r = await this.prisma.apiKey.deleteMany({ where: { id, ownerId } });
    return r.count > 0;
  }

  /** Which of these key ids still exist (a revoked key's row is deleted). */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.prisma.apiKey.findMany({
      where: { id: { in: [...ids] } },
      select: { id: true },
    });
    return new Set(rows.map((r) => r.id));
  }

  async findByHash(keyHash: Buffer): Promise<ApiKeyOwner | null> {
    const row = await this.prisma.apiKey.findUnique({
      where: { keyHash: bytes(keyHash) },
      select: {
        id: true,
        ownerId: true,
        scope: true,
        expiresAt: true,
        owner: { select: { email: true, tokenVersion: true } },
      },
    });
    if (!row) return null;
    return {
      id: row.id,
      ownerId: row.ownerId,
      scope: toScope(row.scope),
      expiresAt: row.expiresAt,
      ownerEmail: row.owner.email,
      ownerTokenVersion: row.owner.tokenVersion,
    };
  }

  /** Records last use of many keys in one statement; never moves a time backwards. */
  async touch(uses: { id: string; at: Date }[]): Promise<void> {
    if (uses.length === 0) return;
    const ids = uses.map((u) => u.id);
    const ats = uses.map((u) => u.at.toISOString());
    await this.prisma.$executeRaw`
      UPDATE api_keys AS k SET last_used_at = v.at
      FROM unnest(${ids}::uuid[], ${ats}::timestamptz[]) AS v(id, at)
      WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`;
  }
}
