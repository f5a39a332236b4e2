import { Injectable } from '@nestjs/common';
import { DomainError, FieldIssue } from '@/common/domain-error';
import { PublicStatusService } from './public-status.service';
import {
  CreateStatusPage,
  MAX_PAGES_PER_OWNER,
  StatusPageView,
  UpdateStatusPage,
} from './status-page.dto';
import { StatusPageRecord, StatusPageRepository } from './status-page.repository';

/** A user's status pages: only their own, listing only their own sites. */
@Injectable()
export class StatusPagesService {
  constructor(
    private readonly pages: StatusPageRepository,
    private readonly views: PublicStatusService,
  ) {}

  async list(ownerId: string): Promise<StatusPageView[]> {
    return (await this.pages.listByOwner(ownerId)).map(present);
  }

  async get(ownerId: string, id: string): Promise<StatusPageView> {
    const page = await this.pages.findOwned(id, ownerId);
    if (!page) throw notFound();
    return present(page);
  }

  async create(ownerId: string, input: CreateStatusPage): Promise<StatusPageView> {
    if ((await this.pages.countByOwner(ownerId)) >= MAX_PAGES_PER_OWNER)
      throw new DomainError('CONFLICT', `at most ${MAX_PAGES_PER_OWNER} status pages per account`);
    await this.assertOwnSites(ownerId, input.siteIds);
    const page = await this.pages.create(
      ownerId,
      {
        slug: input.slug,
        title: input.title,
        description: emptyToNull(input.description),
        showUrls: input.showUrls,
      },
      input.siteIds,
    );
    return present(page);
  }

  async update(ownerId: string, id: string, patch: UpdateStatusPage): Promise<StatusPageView> {
    const before = await this.pages.findOwned(id, ownerId);
    if (!before) throw notFound();
    if (patch.siteIds) await this.assertOwnSites(ownerId, patch.siteIds);
    const { siteIds, description, ...fields } = patch;
    const page = await this.pages.update(
      id,
      ownerId,
      {
        ...fields,
        ...(description !== undefined ? { description: emptyToNull(description) } : {}),
      },
      siteIds,
    );
    if (!page) throw notFound();
    this.views.forget(before.slug);
    this.views.forget(page.slug);
    return present(page);
  }

  async remove(ownerId: string, id: string): Promise<void> {
    const page = await this.pages.deleteOwned(id, ownerId);
    if (!page) throw notFound();
    this.views.forget(page.slug);
  }

  /** Another user's site is answered like an unknown one. */
  private async assertOwnSites(ownerId: string, ids: readonly string[]): Promise<void> {
    const owned = await this.pages.ownedSiteIds(ownerId, ids);
    const issues: FieldIssue[] = ids.flatMap((id, i) =>
      owned.has(id) ? [] : [{ path: `siteIds.${i}`, message: 'no such site' }],
    );
    if (issues.length > 0)
      throw new DomainError('VALIDATION_FAILED', 'request validation failed', issues.slice(0, 20));
  }
}

function present(p: StatusPageRecord): StatusPageView {
  return {
    id: p.id,
    slug: p.slug,
    title: p.title,
    description: p.description,
    showUrls: p.showUrls,
    siteIds: p.siteIds,
    publicPath: `/status/${p.slug}`,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

function emptyToNull(s: string | null | undefined): string | null {
  return s === undefined || s === null || s.length === 0 ? null : s;
}

function notFound(): DomainError {
  return new DomainError('NOT_FOUND', 'status page not found');
}
