/** The caller's delivery log: filters, cursor pages, presentation. */
import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import {
  DeliveryLogFilter,
  DeliveryLogRepository,
  DeliveryLogRow,
} from './delivery-log.repository';

@Injectable()
export class DeliveryLogService {
  constructor(private readonly log: DeliveryLogRepository) {}

  async page(ownerId: string, q: DeliveryLogFilter & { limit: number; cursor?: string }) {
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const rows = await this.log.page(ownerId, q, q.limit + 1, after);
    const items = rows.slice(0, q.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(present),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last) : null,
    };
  }
}

function present(r: DeliveryLogRow) {
  const log = Array.isArray(r.attempt_log) ? (r.attempt_log as Record<string, unknown>[]) : [];
  return {
    id: r.id,
    alertId: r.alert_id,
    siteId: r.website_id,
    kind: r.kind,
    round: Number(r.round),
    reminder: r.seq,
    channel: {
      id: r.channel_id,
      name: r.channel_name,
      type: r.channel_type,
      state: r.channel_state,
    },
    status: r.status,
    attempts: r.attempts,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    nextAttemptAt: r.status === 'PENDING' ? r.next_attempt_at.toISOString() : null,
    createdAt: r.created_at.toISOString(),
    sentAt: r.sent_at?.toISOString() ?? null,
    recentAttempts: log.map((a) => ({
      at: String(a.at),
      statusCode: typeof a.statusCode === 'number' ? a.statusCode : null,
      error: typeof a.error === 'string' ? a.error : null,
      ms: typeof a.ms === 'number' ? a.ms : 0,
    })),
  };
}

function encodeCursor(r: DeliveryLogRow): string {
  return Buffer.from(`${r.created_at.toISOString()}|${r.id}`).toString('base64url');
}

function decodeCursor(c: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(c, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(id ?? '')) {
    throw new DomainError('VALIDATION_FAILED', 'invalid cursor', [
      { path: 'cursor', message: 'invalid cursor' },
    ]);
  }
  return { createdAt, id };
}
