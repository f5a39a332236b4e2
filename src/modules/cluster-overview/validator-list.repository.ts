import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';

export interface ValidatorRow {
  id: string;
  region: string;
  /** its Raft id (advertised address): only to recognise the leader, never shown */
  address: string;
  lastSeenAt: Date;
}

/** The validators registry, read-only, without keys. */
@Injectable()
export class ValidatorListRepository {
  constructor(private readonly prisma: PrismaService) {}

  list(): Promise<ValidatorRow[]> {
    return this.prisma.validator.findMany({
      select: { id: true, region: true, address: true, lastSeenAt: true },
      orderBy: [{ region: 'asc' }, { id: 'asc' }],
    });
  }
}
