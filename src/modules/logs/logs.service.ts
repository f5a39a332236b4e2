/**
 * GET /api/logs: the caller's decisions, alerts and ping logs, newest first, with
 * filters and keyset pagination (an opaque cursor of (time, id)); and the same
 * rows followed as they are written (polled every second, oldest first).
 * Only sites the user owns are ever read.
 */
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { DomainError } from '@/common/domain-error';
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

function decodeCursor(s: string | undefined): Cursor | null {
  if (!s) return null;
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.t === 'number' && typeof c.id === 'string' && c.id.length <= 64) return c;
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
    const cursor = decodeCursor(q.cursor);
    const items = await this.query(userId, q, { before: cursor, limit: q.limit + 1 });
    const more = items.length > q.limit;
    const page = more ? items.slice(0, q.limit) : items;
    const last = page.at(-1);
    return {
      items: page,
      nextCursor: more && last ? encodeCursor({ t: Date.parse(last.at), id: last.id }) : null,
    };
  }

  /** Rows written after `after` (time, id), oldest first: what a follower has not seen yet. */
  async after(userId: string, q: LogsQuery, after: Cursor, limit = 200): Promise<LogItem[]> {
    return this.query(userId, q, { after, limit });
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
      return rows.map((r) => ({
        type: 'decisions' as const,
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
      }));
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
      return rows.map((r) => ({
        type: 'alerts' as const,
        id: r.id,
        siteId: r.websiteId,
        at: r.createdAt.toISOString(),
        kind: r.kind,
        region: r.region,
        round: Number(r.round),
        decisionLogIndex: Number(r.decisionLogIndex),
        dedupKey: r.dedupKey,
      }));
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
    return rows.map((r) => ({
      type: 'pings' as const,
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
    }));
  }
}
