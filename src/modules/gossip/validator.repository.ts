/**
 * The validators registry (table `validators`): who may vote, from which region,
 * with which Ed25519 public key. Only cluster members write it (see
 * ValidatorDirectory for the join rules); verifiers read it.
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';

export interface ValidatorRecord {
  id: string;
  region: string;
  /** base64 raw Ed25519 public key */
  publicKey: string;
  address: string;
  lastSeenAt: Date;
}

export type RegisterOutcome = 'created' | 'updated' | 'rekeyed';

const columns = { id: true, region: true, publicKey: true, address: true, lastSeenAt: true };

@Injectable()
export class ValidatorRepository {
  constructor(private readonly prisma: PrismaService) {}

  findAll(): Promise<ValidatorRecord[]> {
    return this.prisma.validator.findMany({ select: columns, orderBy: { id: 'asc' } });
  }

  findByIds(ids: readonly string[]): Promise<ValidatorRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.prisma.validator.findMany({ select: columns, where: { id: { in: [...ids] } } });
  }

  /** Inserts or replaces a validator; says whether its public key changed. */
  async register(v: Omit<ValidatorRecord, 'lastSeenAt'>, at: Date): Promise<RegisterOutcome> {
    const before = await this.prisma.validator.findUnique({
      where: { id: v.id },
      select: { publicKey: true },
    });
    await this.prisma.validator.upsert({
      where: { id: v.id },
      create: { ...v, lastSeenAt: at },
      update: { region: v.region, publicKey: v.publicKey, address: v.address, lastSeenAt: at },
    });
    if (!before) return 'created';
    return before.publicKey === v.publicKey ? 'updated' : 'rekeyed';
  }

  /** Marks a validator as seen at `at` (never moves lastSeenAt backwards). */
  async touch(id: string, at: Date): Promise<boolean> {
    const r = await this.prisma.validator.updateMany({
      where: { id, lastSeenAt: { lt: at } },
      data: { lastSeenAt: at },
    });
    return r.count > 0;
  }
}
