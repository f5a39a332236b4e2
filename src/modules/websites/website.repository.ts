import { isDeepStrictEqual } from 'node:util';
import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { Prisma, type Website } from '@/generated/prisma/client';
import { PrismaService } from '@/infra/database/prisma.service';
import { checkSpecSchema, DEFAULT_CHECK, type CheckSpec } from '@/modules/ping/check-spec';

export interface WebsiteRecord {
  id: string;
  ownerId: string;
  name: string;
  url: string;
  /** the kind and its options; unreadable stored options read as null (the site is not checked) */
  check: CheckSpec | null;
  intervalMs: number;
  timeoutMs: number;
  expectedStatus: number[];
  keyword: string | null;
  paused: boolean;
  downAfterRounds: number;
  upAfterRounds: number;
  retries: number;
  retryDelayMs: number;
  createdAt: Date;
  updatedAt: Date;
}

export type WebsiteInput = Omit<
  WebsiteRecord,
  'id' | 'ownerId' | 'createdAt' | 'updatedAt' | 'check'
> & {
  check: CheckSpec;
};

export interface ScheduleSpecRow {
  id: string;
  intervalMs: number;
  downAfterRounds: number;
  upAfterRounds: number;
}

export interface LastCheck {
  checkedAt: Date;
  latencyMs: number | null;
  up: boolean;
}

export interface PageCursor {
  createdAt: Date;
  id: string;
}

/** Every query that takes an owner filters by it: one user never sees another's sites. */
@Injectable()
export class WebsiteRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** `id`: chosen by the caller (a push site's url names it); default: the database's. */
  async create(ownerId: string, input: WebsiteInput, id?: string): Promise<WebsiteRecord> {
    try {
      return toRecord(
        await this.prisma.website.create({
          data: { ...columns(input), ownerId, ...(id ? { id } : {}) },
        }),
      );
    } catch (e) {
      // A valid token of an account deleted since it was issued.
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2003') {
        throw new DomainError('UNAUTHENTICATED', 'account no longer exists');
      }
      throw e;
    }
  }

  async findOwned(id: string, ownerId: string): Promise<WebsiteRecord | null> {
    const row = await this.prisma.website.findFirst({ where: { id, ownerId } });
    return row ? toRecord(row) : null;
  }

  /** Newest first, keyset-paginated on (createdAt, id). */
  async findByOwner(ownerId: string, limit: number, after?: PageCursor): Promise<WebsiteRecord[]> {
    const rows = await this.prisma.website.findMany({
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
    return rows.map(toRecord);
  }

  /** Returns null when no site of this owner has that id. */
  async updateOwned(
    id: string,
    ownerId: string,
    patch: Partial<WebsiteInput>,
  ): Promise<WebsiteRecord | null> {
    const { count } = await this.prisma.website.updateMany({
      where: { id, ownerId },
      data: columns(patch),
    });
    return count === 0 ? null : this.findOwned(id, ownerId);
  }

  async deleteOwned(id: string, ownerId: string): Promise<boolean> {
    const { count } = await this.prisma.website.deleteMany({ where: { id, ownerId } });
    return count > 0;
  }

  /** Every site's schedule fields (paused ones too): what the leader commits through Raft. */
  listScheduleSpecs(): Promise<ScheduleSpecRow[]> {
    return this.prisma.website.findMany({
      select: { id: true, intervalMs: true, downAfterRounds: true, upAfterRounds: true },
    });
  }

  /**
   * Changes whenever a site is added, edited or deleted (count and latest edit), in one
   * cheap statement: lets a poller skip re-reading every row when nothing changed.
   */
  async changeFingerprint(): Promise<string> {
    const [row] = await this.prisma.$queryRaw<{ print: string }[]>`
      SELECT count(*)::text || '/' || coalesce(max(updated_at)::text, '-') AS print FROM websites`;
    return row.print;
  }

  /** Which of these ids are sites (one query). */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.prisma.website.findMany({
      where: { id: { in: [...ids] } },
      select: { id: true },
    });
    return new Set(rows.map((r) => r.id));
  }

  /** The latest check of each site, in one statement (index on website_id, checked_at). */
  async lastChecks(ids: readonly string[]): Promise<Map<string, LastCheck>> {
    if (ids.length === 0) return new Map();
    const rows = await this.prisma.$queryRaw<
      { id: string; checked_at: Date; latency_ms: number | null; up: boolean }[]
    >`SELECT w.id::text AS id, p.checked_at, p.latency_ms, p.up
        FROM unnest(${[...ids]}::uuid[]) AS w(id)
        CROSS JOIN LATERAL (
          SELECT checked_at, latency_ms, up FROM ping_logs
           WHERE website_id = w.id ORDER BY checked_at DESC, id DESC LIMIT 1) p`;
    return new Map(
      rows.map((r) => [r.id, { checkedAt: r.checked_at, latencyMs: r.latency_ms, up: r.up }]),
    );
  }

  /** Sites the scheduler should check: every owner's, not paused. */
  async listActive(): Promise<WebsiteRecord[]> {
    const rows = await this.prisma.website.findMany({
      where: { paused: false },
      orderBy: { id: 'asc' },
    });
    return rows.map(toRecord);
  }
}

const { kind: _kind, ...DEFAULT_OPTIONS } = DEFAULT_CHECK;

/** `check` as the kind and check_options columns; a default GET is stored as `{}`. */
function columns<T extends Partial<WebsiteInput>>(input: T) {
  const { check, ...rest } = input;
  if (!check) return rest;
  const { kind, ...options } = check;
  const stored = kind === 'http' && isDeepStrictEqual(options, DEFAULT_OPTIONS) ? {} : options;
  return { ...rest, kind, checkOptions: stored as Prisma.InputJsonObject };
}

function toRecord(row: Website): WebsiteRecord {
  // The token hash never leaves the push module's repository.
  const { kind, checkOptions, pushTokenHash: _hash, ...rest } = row;
  const options = checkOptions as Record<string, unknown> | null;
  if (kind === 'http' && options && Object.keys(options).length === 0) {
    return { ...rest, check: DEFAULT_CHECK };
  }
  const parsed = checkSpecSchema.safeParse({ ...(options ?? {}), kind });
  return { ...rest, check: parsed.success ? parsed.data : null };
}
