/**
 * The caller's maintenance windows: ownership of the window, its site and its status page, a quota per user,
 * and the presentation with the occurrence in progress and the next ones.
 */
import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { ChannelRepository } from '../channel.repository';
import { NotifyClock } from '../notify-clock';
import type { MaintenanceInput } from './maintenance.dto';
import { occurrenceAt, occurrencesBetween } from './maintenance-schedule';
import {
  MaintenanceRepository,
  MaintenanceWindowInput,
  MaintenanceWindowRecord,
} from './maintenance.repository';

export const MAX_WINDOWS_PER_USER = 100;

@Injectable()
export class MaintenanceService {
  constructor(
    private readonly windows: MaintenanceRepository,
    private readonly channels: ChannelRepository,
    private readonly clock: NotifyClock,
  ) {}

  async create(ownerId: string, input: MaintenanceInput) {
    if ((await this.windows.countOwned(ownerId)) >= MAX_WINDOWS_PER_USER) {
      throw new DomainError(
        'CONFLICT',
        `at most ${MAX_WINDOWS_PER_USER} maintenance windows per user`,
      );
    }
    return this.present(await this.windows.create(ownerId, await this.toRecord(ownerId, input)));
  }

  async list(ownerId: string, filter: { siteId?: string; statusPageId?: string }) {
    const rows = await this.windows.listOwned(ownerId, filter, MAX_WINDOWS_PER_USER);
    return { items: rows.map((w) => this.present(w)) };
  }

  async get(ownerId: string, id: string) {
    const w = await this.windows.findOwned(id, ownerId);
    if (!w) throw notFound();
    return this.present(w);
  }

  async update(ownerId: string, id: string, input: MaintenanceInput) {
    const w = await this.windows.updateOwned(id, ownerId, await this.toRecord(ownerId, input));
    if (!w) throw notFound();
    return this.present(w);
  }

  async remove(ownerId: string, id: string): Promise<void> {
    if (!(await this.windows.deleteOwned(id, ownerId))) throw notFound();
  }

  private async toRecord(ownerId: string, v: MaintenanceInput): Promise<MaintenanceWindowInput> {
    if (v.siteId && !(await this.channels.siteOwned(v.siteId, ownerId))) {
      throw new DomainError('NOT_FOUND', 'no such site for this user', [
        { path: 'siteId', message: 'no such site' },
      ]);
    }
    if (v.statusPageId && !(await this.windows.statusPageOwned(v.statusPageId, ownerId))) {
      throw new DomainError('NOT_FOUND', 'no such status page for this user', [
        { path: 'statusPageId', message: 'no such status page' },
      ]);
    }
    const recurring = v.cron !== undefined;
    return {
      title: v.title,
      websiteId: v.siteId ?? null,
      statusPageId: v.statusPageId ?? null,
      startsAt: recurring ? null : (v.startsAt ?? null),
      endsAt: recurring ? null : (v.endsAt ?? null),
      cron: recurring ? (v.cron ?? null) : null,
      durationMinutes: recurring ? (v.durationMinutes ?? null) : null,
      timeZone: recurring ? v.timeZone : null,
      activeFrom: recurring ? (v.activeFrom ?? null) : null,
      activeUntil: recurring ? (v.activeUntil ?? null) : null,
    };
  }

  private present(w: MaintenanceWindowRecord) {
    const now = this.clock.now();
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    const occ = (o: { start: number; end: number }) => ({
      start: new Date(o.start).toISOString(),
      end: new Date(o.end).toISOString(),
    });
    const active = occurrenceAt(w, now);
    return {
      id: w.id,
      title: w.title,
      siteId: w.websiteId,
      statusPageId: w.statusPageId,
      startsAt: iso(w.startsAt),
      endsAt: iso(w.endsAt),
      cron: w.cron,
      durationMinutes: w.durationMinutes,
      timeZone: w.timeZone,
      activeFrom: iso(w.activeFrom),
      activeUntil: iso(w.activeUntil),
      activeNow: active ? occ(active) : null,
      upcoming: occurrencesBetween(w, now + 1, now + 60 * 86_400_000, 5)
        .filter((o) => o.start > now)
        .map(occ),
      createdAt: w.createdAt.toISOString(),
      updatedAt: w.updatedAt.toISOString(),
    };
  }
}

function notFound(): DomainError {
  return new DomainError('NOT_FOUND', 'no such maintenance window for this user');
}
