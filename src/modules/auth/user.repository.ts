import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';
import { isUniqueViolation } from '@/infra/database/prisma-errors';

export interface UserRecord {
  id: string;
  email: string;
  passwordHash: string;
  tokenVersion: number;
  createdAt: Date;
}

@Injectable()
export class UserRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The new account, or null when the e-mail is taken (nothing is changed then). */
  async create(email: string, passwordHash: string): Promise<UserRecord | null> {
    try {
      return await this.prisma.user.create({ data: { email, passwordHash } });
    } catch (e) {
      if (isUniqueViolation(e)) return null;
      throw e;
    }
  }

  findByEmail(email: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { email } });
  }

  findById(id: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { id } });
  }

  /** The current token version, or null for an account that no longer exists. */
  async tokenVersionOf(id: string): Promise<number | null> {
    const u = await this.prisma.user.findUnique({ where: { id }, select: { tokenVersion: true } });
    return u?.tokenVersion ?? null;
  }

  /** Invalidates every token issued so far; returns the new version. */
  async bumpTokenVersion(id: string): Promise<number | null> {
    const r = await this.prisma.user.updateManyAndReturn({
      where: { id },
      data: { tokenVersion: { increment: 1 } },
      select: { tokenVersion: true },
    });
    return r[0]?.tokenVersion ?? null;
  }

  /** New password and a new token version in one write; null if the account is gone. */
  async changePassword(id: string, passwordHash: string): Promise<number | null> {
    const r = await this.prisma.user.updateManyAndReturn({
      where: { id },
      data: { passwordHash, tokenVersion: { increment: 1 } },
      select: { tokenVersion: true },
    });
    return r[0]?.tokenVersion ?? null;
  }

  /** Deletes the account; its sites and all their data go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    const r = await this.prisma.user.deleteMany({ where: { id } });
    return r.count > 0;
  }

  countSites(ownerId: string): Promise<number> {
    return this.prisma.website.count({ where: { ownerId } });
  }
}
