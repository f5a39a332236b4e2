import { Injectable } from '@nestjs/common';
import { SiteStatusMachine, type SiteStatus } from '@/core/consensus/site-status.machine';
import { DomainError } from '@/common/domain-error';
import { storableDate } from '@/common/storable';
import { SiteQuota } from '@/modules/auth/quotas';
import { CertificateLedger, type CertificateSeen } from '@/modules/ping/certificate-ledger';
import { DEFAULT_CHECK, type CheckSpec } from '@/modules/ping/check-spec';
import { SiteChanges } from './site-changes';
import { TargetPolicy } from './target-policy';
import { kindProblems, retriesProblem } from './website.dto';
import {
  LastCheck,
  PageCursor,
  WebsiteInput,
  WebsiteRecord,
  WebsiteRepository,
} from './website.repository';

export interface CreateWebsite {
  url: string;
  check?: CheckSpec;
  name?: string;
  intervalMs: number;
  timeoutMs?: number;
  expectedStatus: number[];
  keyword?: string | null;
  paused: boolean;
  downAfterRounds?: number;
  upAfterRounds?: number;
  retries?: number;
  retryDelayMs?: number;
}

export type UpdateWebsite = Partial<CreateWebsite>;

/** A site with its live status: this node's replicated verdict and the latest check. */
export interface WebsiteView {
  site: WebsiteRecord;
  status: SiteStatus | null;
  lastCheck: LastCheck | null;
  /** the certificate this node's last check saw (https, tls, tcp+tls) */
  certificate: CertificateSeen | null;
}

export interface WebsitePage {
  items: WebsiteView[];
  nextCursor: string | null;
}

/** Sites belong to one user; every method takes the owner and 404s for anyone else. */
@Injectable()
export class WebsitesService {
  constructor(
    private readonly sites: WebsiteRepository,
    private readonly targets: TargetPolicy,
    private readonly changes: SiteChanges,
    private readonly quota: SiteQuota,
    private readonly machine: SiteStatusMachine,
    private readonly certificates: CertificateLedger,
  ) {}

  async create(ownerId: string, input: CreateWebsite): Promise<WebsiteView> {
    const release = await this.quota.reserve(ownerId); // 422 QUOTA_EXCEEDED when full
    try {
      return (await this.withStatus([await this.createWithinQuota(ownerId, input)]))[0];
    } finally {
      release();
    }
  }

  /** Live status of many sites: in-memory replicated state plus one query for the last checks. */
  private async withStatus(sites: WebsiteRecord[]): Promise<WebsiteView[]> {
    const checks = await this.sites.lastChecks(sites.map((s) => s.id));
    return sites.map((site) => ({
      site,
      status: this.machine.get(site.id) ?? null,
      lastCheck: checks.get(site.id) ?? null,
      certificate: this.certificates.get(site.id) ?? null,
    }));
  }

  private async createWithinQuota(ownerId: string, input: CreateWebsite): Promise<WebsiteRecord> {
    const check = input.check ?? DEFAULT_CHECK;
    assertKindFits({ ...input, kind: check.kind });
    await this.targets.assertAllowed(input.url, check);
    const data: WebsiteInput = {
      url: input.url,
      check,
      name: input.name ?? new URL(input.url).host,
      intervalMs: input.intervalMs,
      timeoutMs: input.timeoutMs ?? defaultTimeoutMs(input.intervalMs),
      expectedStatus: input.expectedStatus,
      keyword: input.keyword ?? null,
      paused: input.paused,
      downAfterRounds: input.downAfterRounds ?? 1,
      upAfterRounds: input.upAfterRounds ?? 1,
      retries: input.retries ?? 0,
      retryDelayMs: input.retryDelayMs ?? 0,
    };
    assertRetriesFit(data);
    const site = await this.sites.create(ownerId, data);
    this.changes.notify();
    return site;
  }

  async get(ownerId: string, id: string): Promise<WebsiteView> {
    return (await this.withStatus([await this.owned(ownerId, id)]))[0];
  }

  private async owned(ownerId: string, id: string): Promise<WebsiteRecord> {
    const site = await this.sites.findOwned(id, ownerId);
    if (!site) throw notFound();
    return site;
  }

  async list(ownerId: string, limit: number, cursor?: string): Promise<WebsitePage> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const rows = await this.sites.findByOwner(ownerId, limit + 1, after);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: await this.withStatus(items),
      nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }

  /** Every site of the owner, newest first, without the live status (import/export). */
  async listAll(ownerId: string, pageSize = 500): Promise<WebsiteRecord[]> {
    const out: WebsiteRecord[] = [];
    for (let after: PageCursor | undefined; ;) {
      const rows = await this.sites.findByOwner(ownerId, pageSize, after);
      out.push(...rows);
      if (rows.length < pageSize) return out;
      const last = rows[rows.length - 1];
      after = { createdAt: last.createdAt, id: last.id };
    }
  }

  async update(ownerId: string, id: string, patch: UpdateWebsite): Promise<WebsiteView> {
    const current = await this.owned(ownerId, id);
    const intervalMs = patch.intervalMs ?? current.intervalMs;
    const timeoutMs = patch.timeoutMs ?? current.timeoutMs;
    if (timeoutMs >= intervalMs) {
      throw new DomainError('VALIDATION_FAILED', 'request validation failed', [
        { path: 'timeoutMs', message: 'timeoutMs must be below intervalMs' },
      ]);
    }
    assertRetriesFit({
      intervalMs,
      timeoutMs,
      retries: patch.retries ?? current.retries,
      retryDelayMs: patch.retryDelayMs ?? current.retryDelayMs,
    });
    const check = patch.check ?? current.check ?? DEFAULT_CHECK;
    assertKindFits({
      kind: check.kind,
      url: patch.url ?? current.url,
      keyword: patch.keyword !== undefined ? patch.keyword : current.keyword,
      expectedStatus: patch.expectedStatus ?? current.expectedStatus,
    });
    if (patch.url !== undefined || patch.check !== undefined) {
      await this.targets.assertAllowed(patch.url ?? current.url, check);
    }
    const updated = await this.sites.updateOwned(id, ownerId, patch);
    if (!updated) throw notFound();
    this.changes.notify();
    return (await this.withStatus([updated]))[0];
  }

  async setPaused(ownerId: string, id: string, paused: boolean): Promise<WebsiteView> {
    const updated = await this.sites.updateOwned(id, ownerId, { paused });
    if (!updated) throw notFound();
    this.changes.notify();
    return (await this.withStatus([updated]))[0];
  }

  async remove(ownerId: string, id: string): Promise<void> {
    if (!(await this.sites.deleteOwned(id, ownerId))) throw notFound();
    this.changes.notify();
  }
}

function assertRetriesFit(v: Parameters<typeof retriesProblem>[0]): void {
  const problem = retriesProblem(v);
  if (problem)
    throw new DomainError('VALIDATION_FAILED', 'request validation failed', [
      { path: 'retries', message: problem },
    ]);
}

function assertKindFits(v: Parameters<typeof kindProblems>[0]): void {
  const problems = kindProblems(v);
  if (problems.length > 0)
    throw new DomainError(
      'VALIDATION_FAILED',
      'request validation failed',
      problems.map(([path, message]) => ({ path, message })),
    );
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
  const createdAt = storableDate(iso);
  if (!id || !UUID.test(id) || !createdAt) {
    throw new DomainError('VALIDATION_FAILED', 'request validation failed', [
      { path: 'cursor', message: 'invalid cursor' },
    ]);
  }
  return { createdAt, id };
}

/** A check must end before the next round of its site starts. */
export function defaultTimeoutMs(intervalMs: number): number {
  return Math.min(10_000, Math.floor(intervalMs / 2));
}
