import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Injectable, Logger } from '@nestjs/common';
import { SiteStatusMachine, type SiteStatus } from '@/core/consensus/site-status.machine';
import { DomainError } from '@/common/domain-error';
import { storableDate } from '@/common/storable';
import { SiteQuota } from '@/modules/auth/quotas';
import { CertificateLedger, type CertificateSeen } from '@/modules/ping/certificate-ledger';
import { DEFAULT_CHECK, pushUrlOf, type CheckSpec } from '@/modules/ping/check-spec';
import { PushService } from '@/modules/push/push.service';
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

/**
 * Push sites' rounds: every validator reads the committed last beat this often, so a missed
 * deadline is voted DOWN within about one round (see README, "Push monitors").
 */
export const PUSH_ROUND_MS = 2_000;
const PUSH_TIMEOUT_MS = 1_000;

export interface CreateWebsite {
  /** absent only for a push site (the server sets push://<id>) */
  url?: string;
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
  /** a new push site's beat token, in the answer to its creation only */
  pushToken?: string;
  /** push sites: the last committed beat, epoch ms (null: none yet) */
  lastBeat?: number | null;
}

export interface WebsitePage {
  items: WebsiteView[];
  nextCursor: string | null;
}

/** Sites belong to one user; every method takes the owner and 404s for anyone else. */
@Injectable()
export class WebsitesService {
  private readonly log = new Logger(WebsitesService.name);

  constructor(
    private readonly sites: WebsiteRepository,
    private readonly targets: TargetPolicy,
    private readonly changes: SiteChanges,
    private readonly quota: SiteQuota,
    private readonly machine: SiteStatusMachine,
    private readonly certificates: CertificateLedger,
    private readonly push: PushService,
  ) {}

  async create(ownerId: string, input: CreateWebsite): Promise<WebsiteView> {
    const release = await this.quota.reserve(ownerId); // 422 QUOTA_EXCEEDED when full
    let site: WebsiteRecord;
    try {
      site = await this.createWithinQuota(ownerId, input);
    } finally {
      release();
    }
    const view = (await this.withStatus([site]))[0];
    if (site.check?.kind !== 'push') return view;
    const pushToken = await this.push.issueToken(site.id);
    await this.arm(site.id);
    return { ...view, pushToken };
  }

  /** A new beat token for a push site (the old one stops working); shown once. */
  async rotatePushToken(ownerId: string, id: string): Promise<string> {
    const site = await this.owned(ownerId, id);
    if (site.check?.kind !== 'push')
      throw new DomainError('VALIDATION_FAILED', 'request validation failed', [
        { path: 'check.kind', message: 'only push sites have a beat token' },
      ]);
    return this.push.issueToken(site.id);
  }

  /**
   * Commits a beat for a new or re-armed push site, so it counts from now until its job's
   * first beat. Best effort: without a leader right now the site is still created, and
   * reads as DOWN until its first beat commits.
   */
  private async arm(siteId: string): Promise<void> {
    try {
      await this.push.arm(siteId);
    } catch (e) {
      this.log.warn(`push site ${siteId} not armed: ${(e as Error).message}`);
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
      ...(site.check?.kind === 'push' ? { lastBeat: this.push.lastBeat(site.id) ?? null } : {}),
    }));
  }

  private async createWithinQuota(ownerId: string, input: CreateWebsite): Promise<WebsiteRecord> {
    const check = input.check ?? DEFAULT_CHECK;
    assertKindFits({ ...input, kind: check.kind, requireUrl: true });
    const push = check.kind === 'push';
    // A push site's url names it: its id is chosen here so the url can say so.
    const id = push ? randomUUID() : undefined;
    const url = id ? pushUrlOf(id) : input.url!;
    await this.targets.assertAllowed(url, check);
    const data: WebsiteInput = {
      url,
      check,
      name: input.name ?? (push ? 'push monitor' : new URL(url).host),
      expectedStatus: input.expectedStatus,
      keyword: input.keyword ?? null,
      paused: input.paused,
      downAfterRounds: input.downAfterRounds ?? 1,
      upAfterRounds: input.upAfterRounds ?? 1,
      retries: input.retries ?? 0,
      retryDelayMs: input.retryDelayMs ?? 0,
      ...pushTiming(push, input),
    };
    assertRetriesFit(data);
    const site = await this.sites.create(ownerId, data, id);
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

  async update(ownerId: string, id: string, input: UpdateWebsite): Promise<WebsiteView> {
    const current = await this.owned(ownerId, id);
    const patch = pushPatch(current, input);
    const intervalMs = patch.intervalMs ?? current.intervalMs;
    const timeoutMs = patch.timeoutMs ?? current.timeoutMs;
    const check = patch.check ?? current.check ?? DEFAULT_CHECK;
    assertKindFits({
      kind: check.kind,
      url: patch.url ?? current.url,
      keyword: patch.keyword !== undefined ? patch.keyword : current.keyword,
      expectedStatus: patch.expectedStatus ?? current.expectedStatus,
      intervalMs,
    });
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
    if (patch.url !== undefined || patch.check !== undefined) {
      await this.targets.assertAllowed(patch.url ?? current.url, check);
    }
    const updated = await this.sites.updateOwned(id, ownerId, patch);
    if (!updated) throw notFound();
    this.changes.notify();
    const pushed = updated.check?.kind === 'push';
    const rearm = pushed && !isDeepStrictEqual(current.check, updated.check);
    // A site turned into a push monitor gets its token here, in the answer (shown once).
    const pushToken =
      pushed && current.check?.kind !== 'push' ? await this.push.issueToken(id) : undefined;
    if (rearm) await this.arm(id);
    const view = (await this.withStatus([updated]))[0];
    return pushToken ? { ...view, pushToken } : view;
  }

  async setPaused(ownerId: string, id: string, paused: boolean): Promise<WebsiteView> {
    const updated = await this.sites.updateOwned(id, ownerId, { paused });
    if (!updated) throw notFound();
    this.changes.notify();
    // A resumed push monitor counts from now: its job may have been stopped with it.
    if (!paused && updated.check?.kind === 'push') await this.arm(id);
    return (await this.withStatus([updated]))[0];
  }

  async remove(ownerId: string, id: string): Promise<void> {
    if (!(await this.sites.deleteOwned(id, ownerId))) throw notFound();
    this.changes.notify();
  }
}

/** The schedule fields of a new site: a push site's are fixed (its rounds read the ledger). */
function pushTiming(push: boolean, input: CreateWebsite) {
  if (push)
    return { intervalMs: PUSH_ROUND_MS, timeoutMs: PUSH_TIMEOUT_MS, retries: 0, retryDelayMs: 0 };
  return {
    intervalMs: input.intervalMs,
    timeoutMs: input.timeoutMs ?? defaultTimeoutMs(input.intervalMs),
  };
}

/**
 * An update as it applies to the site: a push site (staying or becoming one) keeps its
 * push://<id> url and fixed round timing; one leaving push needs a url of its new kind.
 */
function pushPatch(current: WebsiteRecord, patch: UpdateWebsite): UpdateWebsite {
  const kind = patch.check?.kind ?? current.check?.kind;
  if (kind !== 'push') {
    if (current.check?.kind !== 'push') return patch;
    if (patch.url === undefined)
      throw new DomainError('VALIDATION_FAILED', 'request validation failed', [
        { path: 'url', message: 'a site that stops being a push monitor needs a url' },
      ]);
    // Its fixed push timing does not carry over: the defaults of a new site, unless given.
    const intervalMs = patch.intervalMs ?? 60_000;
    return { ...patch, intervalMs, timeoutMs: patch.timeoutMs ?? defaultTimeoutMs(intervalMs) };
  }
  const url = pushUrlOf(current.id);
  if (patch.url !== undefined && patch.url !== url)
    throw new DomainError('VALIDATION_FAILED', 'request validation failed', [
      { path: 'url', message: 'a push site’s url is set by the server' },
    ]);
  const { intervalMs: _i, timeoutMs: _t, retries: _r, retryDelayMs: _d, ...rest } = patch;
  return {
    ...rest,
    url,
    intervalMs: PUSH_ROUND_MS,
    timeoutMs: PUSH_TIMEOUT_MS,
    retries: 0,
    retryDelayMs: 0,
  };
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
