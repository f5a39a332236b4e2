/**
 * Reads of raw ping_logs: one keyset page at a time on the (website_id, checked_at DESC,
 * id DESC) index, and the last round of a site. Never an unbounded scan of a site.
 */
import { Injectable } from '@nestjs/common';
import { Prisma } from '@/generated/prisma/client';
import { PrismaService } from '@/infra/database/prisma.service';

export interface HistoryFilter {
  from?: Date;
  to?: Date;
  validatorId?: string;
  region?: string;
  up?: boolean;
}

export interface HistoryCursor {
  checkedAt: Date;
  id: bigint;
}

export interface PingLogRecord {
  id: bigint;
  validatorId: string;
  region: string;
  round: bigint;
  up: boolean;
  latencyMs: number | null;
  httpStatus: number | null;
  failure: string | null;
  error: string | null;
  phases: unknown;
  checkedAt: Date;
}

export interface RoundVote {
  round: bigint;
  up: boolean;
}

@Injectable()
export class PingHistoryRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Newest first; `after` continues below a previous page's last row. */
  page(
    websiteId: string,
    filter: HistoryFilter,
    limit: number,
    after?: HistoryCursor,
  ): Promise<PingLogRecord[]> {
    const where: Prisma.Sql[] = [Prisma.sql`website_id = ${websiteId}::uuid`];
    if (after) where.push(Prisma.sql`(checked_at, id) < (${after.checkedAt}, ${after.id})`);
    if (filter.from) where.push(Prisma.sql`checked_at >= ${filter.from}`);
    if (filter.to) where.push(Prisma.sql`checked_at < ${filter.to}`);
    if (filter.validatorId !== undefined)
      where.push(Prisma.sql`validator_id = ${filter.validatorId}`);
    if (filter.region !== undefined) where.push(Prisma.sql`region = ${filter.region}`);
    if (filter.up !== undefined) where.push(Prisma.sql`up = ${filter.up}`);
    return this.prisma.$queryRaw<PingLogRecord[]>`
      SELECT id, validator_id AS "validatorId", region, round, up, latency_ms AS "latencyMs",
             http_status AS "httpStatus", failure::text AS failure, error, phases,
             checked_at AS "checkedAt"
      FROM ping_logs
      WHERE ${Prisma.join(where, ' AND ')}
      ORDER BY checked_at DESC, id DESC
      LIMIT ${limit}`;
  }

  /** The votes of the most recent round among the site's last `lookback` checks. */
  async lastRound(websiteId: string, lookback = 64): Promise<RoundVote[]> {
    const recent = await this.prisma.$queryRaw<RoundVote[]>`
      SELECT round, up FROM ping_logs
      WHERE website_id = ${websiteId}::uuid
      ORDER BY checked_at DESC, id DESC
      LIMIT ${lookback}`;
    if (recent.length === 0) return [];
    const last = recent.reduce((m, r) => (r.round > m ? r.round : m), recent[0].round);
    return recent.filter((r) => r.round === last);
  }
}
