/**
 * GET /api/logs: the caller's decisions, alerts and ping logs, newest first, with
 * filters and keyset pagination (an opaque cursor of (time, id)); and, for the
 * stream (LogFollower), the rows inserted since a position, for many owners at once.
 * Only sites the user owns are ever read.
 */
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { DomainError } from '@/common/domain-error';
import { isBigintId, isStorableTime } from '@/common/storable';
import { PrismaService } from '@/infra/database/prisma.service';

export const LOG_TYPES = ['decisions', 'alerts', 'pings'] as const;
export type LogType = (typeof LOG_TYPES)[number];

export const logsQuerySchema = z.strictObject({
  type: z.enum(LOG_TYPES).default('decisions'),
  siteId: z.uuid().optional(),
  /** ISO 8601 bounds on the row's time (decidedAt, createdAt, checkedAt) */
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** decisions: verdict; alerts: kind; pings: 'up' | 'down' */
  verdict: z.enum(['UP', 'DOWN', 'UNKNOWN']).optional(),
  kind: z.enum(['DOWN', 'RECOVERED', 'REGION_DOWN', 'REGION_RECOVERED']).optional(),
  region: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  status: z.enum(['up', 'down']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});
export type LogsQuery = z.infer<typeof logsQuerySchema>;

export interface LogItem {
  type: LogType;
  id: string;
  siteId: string;
  at: string;
  [k: string]: unknown;
}

interface Cursor {
  t: number;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A cursor this endpoint could have issued for `type`: a storable instant and a row id. */
function decodeCursor(s: string | undefined, type: LogType): Cursor | null {
  if (!s) return null;
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Partial<Cursor> | null;
    const idOk =
      type === 'alerts' ? typeof c?.id === 'string' && UUID.test(c.id) : isBigintId(c?.id);
    if (c && isStorableTime(c.t) && Number.isInteger(c.t) && idOk) return { t: c.t, id: c.id! };
  } catch {
    // fall through
  }
  throw new DomainError('VALIDATION_FAILED', 'invalid cursor', [
    { path: 'cursor', message: 'not a cursor returned by this endpoint' },
  ]);
}

@Injectable()
export class LogsService {
  constructor(private readonly prisma: PrismaService) {}

  async page(
    userId: string,
    q: LogsQuery,
  ): Promise<{ items: LogItem[]; nextCursor: string | null }> {
    const cursor = decodeCursor(q.cursor, q.type);
    const items = await this.query(userId, q, { before: cursor, limit: q.limit + 1 });
    const more = items.length > q.limit;
    const page = more ? items.slice(0, q.limit) : items;
    const last = page.at(-1);
    return {
      items: page,
      nextCursor: more && last ? encodeCursor({ t: Date.parse(last.at), id: last.id }) : null,
    };
  }

  private async query(
    userId: string,
    q: LogsQuery,
    o: { before?: Cursor | null; after?: Cursor; limit: number },
  ): Promise<LogItem[]> {
    const site = { ownerId: userId, ...(q.siteId ? { id: q.siteId } : {}) };
    const range = (field: string) => {
      const r: Record<string, Date> = {};
      if (q.from) r.gte = new Date(q.from);
      if (q.to) r.lte = new Date(q.to);
      return Object.keys(r).length ? { [field]: r } : {};
    };
    const keyset = (field: string, idOf: (id: string) => unknown) => {
      const c = o.after ?? o.before;
      if (!c) return {};
      const op = o.after ? 'gt' : 'lt';
      const at = new Date(c.t);
      return {
        OR: [{ [field]: { [op]: at } }, { [field]: at, id: { [op]: idOf(c.id) } }],
      };
    };
    const dir = o.after ? 'asc' : 'desc';
    const big = (id: string) => {
      try {
        return BigInt(id);
      } catch {
        return 0n;
      }
    };

    if (q.type === 'decisions') {
      const rows = await this.prisma.decision.findMany({
        where: {
          website: site,
          ...(q.verdict ? { verdict: q.verdict } : {}),
          ...range('decidedAt'),
          ...keyset('decidedAt', big),
        },
        orderBy: [{ decidedAt: dir }, { id: dir }],
        take: o.limit,
      });
      return rows.map(decisionItem);
    }
    if (q.type === 'alerts') {
      const rows = await this.prisma.alert.findMany({
        where: {
          website: site,
          ...(q.kind ? { kind: q.kind } : {}),
          ...(q.region ? { region: q.region } : {}),
          ...range('createdAt'),
          ...keyset('createdAt', (id) => id),
        },
        orderBy: [{ createdAt: dir }, { id: dir }],
        take: o.limit,
      });
      return rows.map(alertItem);
    }
    const rows = await this.prisma.pingLog.findMany({
      where: {
        website: site,
        ...(q.region ? { region: q.region } : {}),
        ...(q.status ? { up: q.status === 'up' } : {}),
        ...range('checkedAt'),
        ...keyset('checkedAt', big),
      },
      orderBy: [{ checkedAt: dir }, { id: dir }],
      take: o.limit,
    });
    return rows.map(pingItem);
  }

  /**
   * Rows INSERTED after `cursor`, for the followers of /api/logs/stream: decisions and
   * pings by their id (a sequence, so insertion order: a ping checked long ago but
   * written late is still new), alerts by their creation time. Every owner in one
   * query; at most `limit` rows, oldest first.
   */
  async inserted(
    type: LogType,
    ownerIds: string[],
    cursor: FollowCursor,
    limit: number,
  ): Promise<{ ownerId: string; item: LogItem }[]> {
    const website = { ownerId: { in: ownerIds } };
    const owner = { website: { select: { ownerId: true } } } as const;
    if (type === 'alerts') {
      const rows = await this.prisma.alert.findMany({
        where: { website, createdAt: { gt: cursor.at } },
        include: owner,
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: limit,
      });
      return rows.map((r) => ({ ownerId: r.website.ownerId, item: alertItem(r) }));
    }
    if (type === 'decisions') {
      const rows = await this.prisma.decision.findMany({
        where: { website, id: { gt: cursor.id } },
        include: owner,
        orderBy: { id: 'asc' },
        take: limit,
      });
      return rows.map((r) => ({ ownerId: r.website.ownerId, item: decisionItem(r) }));
    }
    const rows = await this.prisma.pingLog.findMany({
      where: { website, id: { gt: cursor.id } },
      include: owner,
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map((r) => ({ ownerId: r.website.ownerId, item: pingItem(r) }));
  }

  /** Where following starts: everything already written counts as seen. */
  async head(type: LogType): Promise<FollowCursor> {
    const at = new Date();
    if (type === 'alerts') return { id: 0n, at };
    const last =
      type === 'decisions'
        ? await this.prisma.decision.findFirst({ orderBy: { id: 'desc' }, select: { id: true } })
        : await this.prisma.pingLog.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
    return { id: last?.id ?? 0n, at };
  }
}

/** Position of a follower: the last id (decisions, pings) or creation time (alerts) seen. */
export interface FollowCursor {
  id: bigint;
  at: Date;
}

/** Whether a row passes a stream's filters (the same ones as GET /api/logs). */
export function matchesQuery(q: LogsQuery, item: LogItem): boolean {
  if (q.siteId && item.siteId !== q.siteId) return false;
  if (q.from && item.at < new Date(q.from).toISOString()) return false;
  if (q.to && item.at > new Date(q.to).toISOString()) return false;
  if (q.type === 'decisions' && q.verdict && item.verdict !== q.verdict) return false;
  if (q.type === 'alerts' && q.kind && item.kind !== q.kind) return false;
  if (q.type !== 'decisions' && q.region && item.region !== q.region) return false;
  if (q.type === 'pings' && q.status && item.up !== (q.status === 'up')) return false;
  return true;
}

type DecisionRow = {
  id: bigint;
  websiteId: string;
  decidedAt: Date;
  logIndex: bigint;
  term: bigint;
  round: bigint;
  verdict: string;
  regionVerdicts: unknown;
  tally: unknown;
  voters: string[];
};

function decisionItem(r: DecisionRow): LogItem {
  return {
    type: 'decisions',
    id: r.id.toString(),
    siteId: r.websiteId,
    at: r.decidedAt.toISOString(),
    logIndex: Number(r.logIndex),
    term: Number(r.term),
    round: Number(r.round),
    verdict: r.verdict,
    regionVerdicts: r.regionVerdicts,
    tally: r.tally,
    voters: r.voters,
  };
}

function alertItem(r: {
  id: string;
  websiteId: string;
  createdAt: Date;
  kind: string;
  region: string | null;
  round: bigint;
  decisionLogIndex: bigint;
  dedupKey: string;
}): LogItem {
  return {
    type: 'alerts',
    id: r.id,
    siteId: r.websiteId,
    at: r.createdAt.toISOString(),
    kind: r.kind,
    region: r.region,
    round: Number(r.round),
    decisionLogIndex: Number(r.decisionLogIndex),
    dedupKey: r.dedupKey,
  };
}

function pingItem(r: {
  id: bigint;
  websiteId: string;
  checkedAt: Date;
  validatorId: string;
  region: string;
  round: bigint;
  up: boolean;
  latencyMs: number | null;
  httpStatus: number | null;
  failure: string | null;
  error: string | null;
}): LogItem {
  return {
    type: 'pings',
    id: r.id.toString(),
    siteId: r.websiteId,
    at: r.checkedAt.toISOString(),
    validatorId: r.validatorId,
    region: r.region,
    round: Number(r.round),
    up: r.up,
    latencyMs: r.latencyMs,
    httpStatus: r.httpStatus,
    failure: r.failure,
    error: r.error,
  };
}
