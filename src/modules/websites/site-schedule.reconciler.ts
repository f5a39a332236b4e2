/**
 * Keeps the replicated schedule equal to the sites table, from the Raft leader only:
 * a site whose interval or confirmation counts differ from what is committed (new,
 * edited on any node, or older than this feature) gets a `schedule` item, a committed
 * site that no longer exists gets `forget-site`. Runs every RECONCILE_MS and at once
 * after a change on this node. The new interval takes over on its phase grid at least
 * LEAD_MS ahead, so every node has applied the segment before its first round.
 *
 * A timed pass first reads the table's change fingerprint (count, latest edit) and reads
 * every row only when it moved, when leadership or a local edit asks, or every
 * FULL_PASS_MS regardless: at 10,000 sites, reading them all every 2 s was a large share
 * of the leader's CPU and of PostgreSQL's.
 */
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { ScheduleItem } from '@/core/consensus/decision';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import { alignedAnchorAt } from '@/core/schedule/segment';
import { proposeConsensus } from '@/modules/consensus/decisions-part';
import { isUuid } from '@/modules/projection/site-directory';
import { RaftHost } from '@/modules/raft/raft-host';
import { SiteChanges } from './site-changes';
import { TableChangeGate } from './table-change-gate';
import { WebsiteRepository } from './website.repository';

export const RECONCILE_MS = 2_000;
export const LEAD_MS = 2_000;
/** schedule items per Raft entry */
export const MAX_ITEMS_PER_ENTRY = 2_000;
/** a full pass at least this often, whatever the fingerprint says (e.g. an old leader's entry) */
export const FULL_PASS_MS = 30_000;

export interface ReconcilerStats {
  passes: number;
  /** timed passes that found the table unchanged and read no rows */
  skipped: number;
  scheduleItems: number;
  forgotten: number;
  failures: number;
}

@Injectable()
export class SiteScheduleReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('SiteSchedule');
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private again = false;
  private readonly gate: TableChangeGate;
  private unsubscribe?: () => void;
  readonly stats: ReconcilerStats = {
    passes: 0,
    skipped: 0,
    scheduleItems: 0,
    forgotten: 0,
    failures: 0,
  };

  constructor(
    private readonly sites: WebsiteRepository,
    private readonly machine: SiteStatusMachine,
    private readonly raft: RaftHost,
    private readonly changes: SiteChanges,
  ) {
    this.gate = new TableChangeGate(() => this.sites.changeFingerprint(), FULL_PASS_MS);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.reconcile(false), RECONCILE_MS);
    this.timer.unref();
    this.unsubscribe = this.changes.subscribe(() => void this.reconcile());
    this.raft.onLeadershipChange(() => void this.reconcile());
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  /**
   * One pass if this node leads; concurrent calls coalesce into one more pass. `full`
   * (the default) reads every row; otherwise only when the table's fingerprint moved.
   */
  reconcile(full = true): Promise<void> {
    if (full) this.gate.force();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        if (!this.raft.isLeader()) return;
        try {
          await this.passIfChanged();
        } catch (e) {
          this.stats.failures++;
          this.log.warn(`schedule reconcile failed: ${(e as Error).message.slice(0, 200)}`);
        }
      } while (this.again);
    })().finally(() => (this.running = null));
    return this.running;
  }

  private async passIfChanged(): Promise<void> {
    const passed = await this.gate.readIfChanged(() => this.pass().then(() => true));
    if (passed === null) this.stats.skipped++;
  }

  private async pass(): Promise<void> {
    this.stats.passes++;
    const rows = await this.sites.listScheduleSpecs();
    const present = new Set<string>();
    const items: ScheduleItem[] = [];
    const notBefore = Date.now() + LEAD_MS;
    for (const row of rows) {
      present.add(row.id);
      if (this.machine.isForgotten(row.id)) continue;
      const cur = this.machine.schedule(row.id);
      if (
        cur &&
        cur.segment.intervalMs === row.intervalMs &&
        cur.downAfterRounds === row.downAfterRounds &&
        cur.upAfterRounds === row.upAfterRounds
      )
        continue;
      const sameInterval = cur?.segment.intervalMs === row.intervalMs;
      items.push({
        siteId: row.id,
        intervalMs: row.intervalMs,
        anchorAt: sameInterval
          ? cur.segment.anchorAt
          : alignedAnchorAt(row.id, row.intervalMs, notBefore),
        downAfterRounds: row.downAfterRounds,
        upAfterRounds: row.upAfterRounds,
      });
    }
    for (let i = 0; i < items.length; i += MAX_ITEMS_PER_ENTRY) {
      const chunk = items.slice(i, i + MAX_ITEMS_PER_ENTRY);
      await proposeConsensus(this.raft, { t: 'schedule', items: chunk });
      this.stats.scheduleItems += chunk.length;
    }

    // Committed sites missing from the table. Read again by id: a site committed after the
    // list above was read must not be mistaken for a deleted one.
    const candidates = new Set<string>();
    for (const [id] of this.machine.scheduledSites()) if (!present.has(id)) candidates.add(id);
    for (const id of this.machine.siteIds()) if (!present.has(id) && isUuid(id)) candidates.add(id);
    if (candidates.size === 0) return;
    const still = await this.sites.existing([...candidates]);
    for (const id of candidates) {
      if (still.has(id) || this.machine.isForgotten(id)) continue;
      await proposeConsensus(this.raft, { t: 'forget-site', siteId: id });
      this.stats.forgotten++;
    }
  }
}
