/**
 * A site's raw check history, newest first, one keyset page at a time. The cursor is
 * opaque to clients: (checkedAt, id) of the last row of the previous page.
 */
import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { isBigintId, storableDate } from '@/common/storable';
import { WebsiteRepository } from '@/modules/websites/website.repository';
import { PingLogItem } from './history.dto';
import {
  HistoryCursor,
  HistoryFilter,
  PingHistoryRepository,
  PingLogRecord,
} from './ping-history.repository';

export interface HistoryQuery extends HistoryFilter {
  limit: number;
  cursor?: string;
}

export interface HistoryPage {
  items: PingLogItem[];
  nextCursor: string | null;
}

@Injectable()
export class HistoryService {
  constructor(
    private readonly sites: WebsiteRepository,
    private readonly logs: PingHistoryRepository,
  ) {}

  async page(ownerId: string, websiteId: string, q: HistoryQuery): Promise<HistoryPage> {
    if (!(await this.sites.findOwned(websiteId, ownerId))) {
      throw new DomainError('NOT_FOUND', 'website not found');
    }
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const rows = await this.logs.page(websiteId, q, q.limit + 1, after);
    const items = rows.slice(0, q.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(present),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last) : null,
    };
  }
}

function present(r: PingLogRecord): PingLogItem {
  return {
    id: r.id.toString(),
    validatorId: r.validatorId,
    region: r.region,
    round: Number(r.round),
    up: r.up,
    latencyMs: r.latencyMs,
    httpStatus: r.httpStatus,
    failure: r.failure as PingLogItem['failure'],
    error: r.error,
    phases: phasesOf(r.phases),
    checkedAt: r.checkedAt.toISOString(),
  };
}

function phasesOf(raw: unknown): Record<string, number> | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

export function encodeCursor(r: { checkedAt: Date; id: bigint }): string {
  return Buffer.from(`${r.checkedAt.toISOString()}|${r.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): HistoryCursor {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const checkedAt = storableDate(iso);
  if (!isBigintId(id) || !checkedAt) {
    throw new DomainError('VALIDATION_FAILED', 'request validation failed', [
      { path: 'cursor', message: 'invalid cursor' },
    ]);
  }
  return { checkedAt, id: BigInt(id) };
}
