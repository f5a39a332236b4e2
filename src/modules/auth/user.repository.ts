import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { PrismaService } from '@/infra/database/prisma.service';
import { isUniqueViolation } from '@/infra/database/prisma-errors';

export interface UserRecord {
  id: string;
  email: string;
  passwordHash: string;
  createdAt: Date;
}

@Injectable()
export class UserRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(email: string, passwordHash: string): Promise<UserRecord> {
    try {
      return await this.prisma.user.create({ data: { email, passwordHash } });
    } catch (e) {
      if (isUniqueViolation(e))
        throw new DomainError('CONFLICT', 'an account with this e-mail exists');
      throw e;
    }
  }

  findByEmail(email: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { email } });
  }

  findById(id: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { id } });
  }
}
