import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { SiteChanges } from './site-changes';
import { TargetPolicy } from './target-policy';
import { PageCursor, WebsiteInput, WebsiteRecord, WebsiteRepository } from './website.repository';

export interface CreateWebsite {
  url: string;
  name?: string;
  intervalMs: number;
  timeoutMs?: number;
  expectedStatus: number[];
  keyword?: string | null;
  paused: boolean;
}

export type UpdateWebsite = Partial<CreateWebsite>;

export interface WebsitePage {
  items: WebsiteRecord[];
  nextCursor: string | null;
}

/** Sites belong to one user; every method takes the owner and 404s for anyone else. */
@Injectable()
export class WebsitesService {
  constructor(
    private readonly sites: WebsiteRepository,
    private readonly targets: TargetPolicy,
    private readonly changes: SiteChanges,
  ) {}

  async create(ownerId: string, input: CreateWebsite): Promise<WebsiteRecord> {
    await this.targets.assertAllowed(input.url);
    const data: WebsiteInput = {
      url: input.url,
      name: input.name ?? new URL(input.url).host,
      intervalMs: input.intervalMs,
      timeoutMs: input.timeoutMs ?? defaultTimeoutMs(input.intervalMs),
      expectedStatus: input.expectedStatus,
      keyword: input.keyword ?? null,
      paused: input.paused,
    };
    const site = await this.sites.create(ownerId, data);
    this.changes.notify();
    return site;
  }

  async get(ownerId: string, id: string): Promise<WebsiteRecord> {
    const site = await this.sites.findOwned(id, ownerId);
    if (!site) throw notFound();
    return site;
  }

  async list(ownerId: string, limit: number, cursor?: string): Promise<WebsitePage> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const rows = await this.sites.findByOwner(ownerId, limit + 1, after);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async update(ownerId: string, id: string, patch: UpdateWebsite): Promise<WebsiteRecord> {
    const current = await this.get(ownerId, id);
    const intervalMs = patch.intervalMs ?? current.intervalMs;
    const timeoutMs = patch.timeoutMs ?? current.timeoutMs;
    if (timeoutMs >= intervalMs) {
      throw new DomainError('VALIDATION_FAILED', 'request validation failed', [
        { path: 'timeoutMs', message: 'timeoutMs must be below intervalMs' },
      ]);
    }
    if (patch.url !== undefined) await this.targets.assertAllowed(patch.url);
    const updated = await this.sites.updateOwned(id, ownerId, patch);
    if (!updated) throw notFound();
    this.changes.notify();
    return updated;
  }

  async setPaused(ownerId: string, id: string, paused: boolean): Promise<WebsiteRecord> {
    const updated = await this.sites.updateOwned(id, ownerId, { paused });
    if (!updated) throw notFound();
    this.changes.notify();
    return updated;
  }

  async remove(ownerId: string, id: string): Promise<void> {
    if (!(await this.sites.deleteOwned(id, ownerId))) throw notFound();
    this.changes.notify();
  }
}

function notFound(): DomainError {
  return new DomainError('NOT_FOUND', 'website not found');
}

function encodeCursor(site: WebsiteRecord): string {
  return Buffer.from(`${site.createdAt.toISOString()}|${site.id}`).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeCursor(cursor: string): PageCursor {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || !UUID.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new DomainError('VALIDATION_FAILED', 'request validation failed', [
      { path: 'cursor', message: 'invalid cursor' },
    ]);
  }
  return { createdAt, id };
}

/** A check must end before the next round of its site starts. */
function defaultTimeoutMs(intervalMs: number): number {
  return Math.min(10_000, Math.floor(intervalMs / 2));
}
