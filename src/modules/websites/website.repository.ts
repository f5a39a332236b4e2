import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { Prisma } from '@/generated/prisma/client';
import { PrismaService } from '@/infra/database/prisma.service';

export interface WebsiteRecord {
  id: string;
  ownerId: string;
  name: string;
  url: string;
  intervalMs: number;
  timeoutMs: number;
  expectedStatus: number[];
  keyword: string | null;
  paused: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type WebsiteInput = Omit<WebsiteRecord, 'id' | 'ownerId' | 'createdAt' | 'updatedAt'>;

export interface PageCursor {
  createdAt: Date;
  id: string;
}

/** Every query that takes an owner filters by it: one user never sees another's sites. */
@Injectable()
export class WebsiteRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(ownerId: string, input: WebsiteInput): Promise<WebsiteRecord> {
    try {
      return await this.prisma.website.create({ data: { ...input, ownerId } });
    } catch (e) {
      // A valid token of an account deleted since it was issued.
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2003') {
        throw new DomainError('UNAUTHENTICATED', 'account no longer exists');
      }
      throw e;
    }
  }

  findOwned(id: string, ownerId: string): Promise<WebsiteRecord | null> {
    return this.prisma.website.findFirst({ where: { id, ownerId } });
  }

  /** Newest first, keyset-paginated on (createdAt, id). */
  findByOwner(ownerId: string, limit: number, after?: PageCursor): Promise<WebsiteRecord[]> {
    return this.prisma.website.findMany({
      where: {
        ownerId,
        ...(after
          ? {
              OR: [
                { createdAt: { lt: after.createdAt } },
                { createdAt: after.createdAt, id: { lt: after.id } },
              ],
            }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
  }

  /** Returns null when no site of this owner has that id. */
  async updateOwned(
    id: string,
    ownerId: string,
    patch: Partial<WebsiteInput>,
  ): Promise<WebsiteRecord | null> {
    const { count } = await this.prisma.website.updateMany({ where: { id, ownerId }, data: patch });
    return count === 0 ? null : this.findOwned(id, ownerId);
  }

  async deleteOwned(id: string, ownerId: string): Promise<boolean> {
    const { count } = await this.prisma.website.deleteMany({ where: { id, ownerId } });
    return count > 0;
  }

  /** Sites the scheduler should check: every owner's, not paused. */
  listActive(): Promise<WebsiteRecord[]> {
    return this.prisma.website.findMany({ where: { paused: false }, orderBy: { id: 'asc' } });
  }
}
