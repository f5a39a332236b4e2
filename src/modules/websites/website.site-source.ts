/**
 * The scheduler's site list, read from PostgreSQL: every site of every owner that is
 * not paused. Deleted and paused sites drop out at the next read. Rounds follow the
 * site's committed schedule segment (interval and anchor from the Raft log, so every
 * node numbers rounds alike and never backwards); the database's interval applies once
 * the leader has committed it. A forgotten (deleted) site is never scheduled again.
 */
import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { SiteStatusMachine, type SiteSchedule } from '@/core/consensus/site-status.machine';
import { TallyService, type SiteTiming } from '@/modules/consensus/tally.service';
import { SiteSource, SiteSpec } from '@/modules/ping/site-source';
import { RaftHost } from '@/modules/raft/raft-host';
import { SiteChanges } from './site-changes';
import { TableChangeGate } from './table-change-gate';
import { WebsiteRecord, WebsiteRepository } from './website.repository';

/** the site rows are read whole at least this often, whatever the fingerprint says */
const FULL_READ_MS = 60_000;

@Injectable()
export class WebsiteSiteSource extends SiteSource implements OnModuleInit {
  /** the scheduler's listeners, also called when a schedule entry commits */
  private readonly committed = new Set<() => void>();
  /** the last rows read */
  private records: WebsiteRecord[] = [];
  private readonly gate: TableChangeGate;
  constructor(
    private readonly sites: WebsiteRepository,
    private readonly changes: SiteChanges,
    private readonly machine: SiteStatusMachine,
    private readonly tally: TallyService,
    @Optional() private readonly raft?: RaftHost,
  ) {
    super();
    this.gate = new TableChangeGate(() => this.sites.changeFingerprint(), FULL_READ_MS);
  }

  onModuleInit(): void {
    // A committed schedule or forget-site changes what this node checks: its scheduler
    // re-reads at once (boot replays too: a list read before the replay must not keep the
    // legacy grid). Only the scheduler: SiteChanges also wakes the leader's reconciler,
    // which has nothing to do for an entry it just committed itself.
    this.raft?.onCommit((_entry, result) => {
      if (typeof result !== 'object' || result === null) return;
      const kind = (result as { kind?: unknown }).kind;
      if (kind === 'schedule' || kind === 'forgot') for (const l of this.committed) l();
    });
  }

  override async listActive(): Promise<SiteSpec[]> {
    const specs: SiteSpec[] = [];
    const timings = new Map<string, SiteTiming>();
    for (const w of await this.activeRecords()) {
      if (this.machine.isForgotten(w.id) || w.check === null) continue;
      const spec = toSiteSpec(w, this.machine.schedule(w.id));
      timings.set(w.id, { intervalMs: spec.intervalMs, timeoutMs: spec.timeoutMs });
      specs.push(spec);
    }
    this.tally.setSiteTimings(timings);
    return specs;
  }

  /**
   * The active sites' rows. The scheduler asks every few seconds on every node; the rows
   * are read again only when the table's fingerprint (count and latest edit) moved, a
   * local edit was announced, or FULL_READ_MS passed; otherwise one cheap statement
   * replaces reading and mapping every row (at 5,000 sites that was more rows read per
   * second than sites checked). Edits made on other nodes move the fingerprint.
   */
  private async activeRecords(): Promise<WebsiteRecord[]> {
    this.records = (await this.gate.readIfChanged(() => this.sites.listActive())) ?? this.records;
    return this.records;
  }

  override onChange(listener: () => void): () => void {
    this.committed.add(listener);
    const unsubscribe = this.changes.subscribe(() => {
      this.gate.force();
      listener();
    });
    return () => {
      this.committed.delete(listener);
      unsubscribe();
    };
  }
}

export function toSiteSpec(w: WebsiteRecord, schedule?: SiteSchedule): SiteSpec {
  const intervalMs = schedule?.segment.intervalMs ?? w.intervalMs;
  return {
    id: w.id,
    url: w.url,
    ...(w.check ? { check: w.check } : {}),
    ownerId: w.ownerId,
    intervalMs,
    timeoutMs: Math.min(w.timeoutMs, intervalMs),
    expectedStatus: w.expectedStatus,
    keyword: w.keyword,
    retries: w.retries,
    retryDelayMs: w.retryDelayMs,
    ...(schedule
      ? { anchor: { round: schedule.segment.anchorRound, at: schedule.segment.anchorAt } }
      : {}),
  };
}
