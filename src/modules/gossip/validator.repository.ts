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
/** register() without permission to replace a different registered key */
export type RegisterResult = RegisterOutcome | 'key-mismatch';

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

  /**
   * Inserts or updates a validator. A different key than the registered one is only
   * written with `mayReplaceKey` (proof from the old key, or the operator's ALLOW_REKEY);
   * otherwise nothing changes and the answer is 'key-mismatch'. The update is
   * conditional on the key read, so two racing re-keys cannot both win.
   */
  async register(
    v: Omit<ValidatorRecord, 'lastSeenAt'>,
    at: Date,
    mayReplaceKey = false,
  ): Promise<RegisterResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = await this.prisma.validator.findUnique({
        where: { id: v.id },
        select: { publicKey: true },
      });
      if (!before) {
        const r = await this.prisma.validator.createMany({
          data: [{ ...v, lastSeenAt: at }],
          skipDuplicates: true,
        });
        if (r.count === 1) return 'created';
        continue; // someone registered it meanwhile: decide against that row
      }
      if (before.publicKey !== v.publicKey && !mayReplaceKey) return 'key-mismatch';
      const r = await this.prisma.validator.updateMany({
        where: { id: v.id, publicKey: before.publicKey },
        data: { region: v.region, publicKey: v.publicKey, address: v.address, lastSeenAt: at },
      });
      if (r.count === 1) return before.publicKey === v.publicKey ? 'updated' : 'rekeyed';
    }
    throw new Error(`validator ${v.id}: registration kept racing with another writer`);
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
