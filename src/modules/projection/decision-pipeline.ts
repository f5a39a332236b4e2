/**
 * Wires the hub tally into Raft and the committed decisions into the world:
 *  - registers the SiteStatusMachine with the Raft host as 'decisions' (onModuleInit,
 *    before the host boots);
 *  - on the leader only, proposes each finalized Decision (url filled in from the site);
 *    followers drop theirs (their tally keeps the open rounds for when they lead);
 *  - on every leader change, points gossip at the leader (the hub);
 *  - on every node, for each applied decision: records it in the ApplyRing (diagnostics)
 *    and broadcasts a consensus update and a raft-commit to the site's owner and site
 *    rooms, once per node even across restarts (BroadcastMark);
 *  - starts the DecisionProjector over the committed Raft log (it projects on the leader)
 *    and makes its floor the Raft host's compaction floor.
 */
import { join } from 'node:path';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MAX_BATCH_DECISIONS, type Decision } from '@/core/consensus/decision';
import {
  SiteStatusMachine,
  type DecisionApplyResult,
  type SiteStatusApplyResult,
} from '@/core/consensus/site-status.machine';
import type { LogEntry } from '@/core/raft/raft.types';
import { AppConfig } from '@/config/app-config';
import { AlertPublisher } from '@/modules/alerts/alert.publisher';
import { ApplyRing } from '@/modules/consensus/apply-ring';
import { DECISIONS_MACHINE, proposeConsensus } from '@/modules/consensus/decisions-part';
import { TallyService } from '@/modules/consensus/tally.service';
import { GossipService } from '@/modules/gossip/gossip.service';
import { RaftHost } from '@/modules/raft/raft-host';
import { isCommandFor } from '@/modules/raft/replicated-state';
import { RealtimePublisher } from '@/modules/realtime/realtime.publisher';
import { SIMULATION_PREFIX } from '@/modules/simulate/simulation-id';
import { BroadcastMark } from './broadcast-mark';
import { DecisionProjector } from './decision.projector';
import { ProjectionAlerts } from './projection-alerts';
import { RaftCommittedLog } from './raft-committed-log';
import { SiteDirectory, type SiteInfo } from './site-directory';

export { DECISIONS_MACHINE };

/**
 * Decisions finalized within this window leave as one DecisionBatch entry: rounds that
 * complete early (every validator voted) finish spread over the interval, so the window,
 * not the tally tick alone, is what makes entries carry many decisions.
 */
export const BATCH_WINDOW_MS = 200;

export interface PipelineStats {
  /** decisions proposed (in batches) */
  proposed: number;
  /** DecisionBatch entries proposed */
  batches: number;
  proposeFailures: number;
  droppedAsFollower: number;
  /** decisions of a deleted (forgotten) site, not proposed */
  droppedForgotten: number;
  applied: number;
  leaderChanges: number;
}

@Injectable()
export class DecisionPipeline implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('DecisionPipeline');
  readonly ring = new ApplyRing();
  private readonly mark: BroadcastMark;
  private leader: string | null = null;
  private wasLeader = false;
  private unsubscribe: (() => void) | null = null;
  private pending: Decision[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  readonly stats: PipelineStats = {
    proposed: 0,
    batches: 0,
    proposeFailures: 0,
    droppedAsFollower: 0,
    droppedForgotten: 0,
    applied: 0,
    leaderChanges: 0,
  };

  constructor(
    private readonly raft: RaftHost,
    private readonly machine: SiteStatusMachine,
    private readonly tally: TallyService,
    private readonly gossip: GossipService,
    private readonly sites: SiteDirectory,
    private readonly projector: DecisionProjector,
    private readonly moduleRef: ModuleRef,
    config: AppConfig,
    @Optional() private readonly realtime?: RealtimePublisher,
  ) {
    this.mark = new BroadcastMark(join(config.dataDir, 'broadcast.mark'));
  }

  onModuleInit(): void {
    this.raft.register(DECISIONS_MACHINE, this.machine);
    this.raft.onCommit((entry, result, replay) => this.onApplied(entry, result, replay));
    let alerts: AlertPublisher | null = null;
    try {
      alerts = this.moduleRef.get(AlertPublisher, { strict: false });
    } catch {
      this.log.warn('no AlertPublisher in this application: transitions raise no alerts');
    }
    this.projector.start(
      new RaftCommittedLog(this.raft),
      alerts ? new ProjectionAlerts(alerts, this.sites) : null,
    );
    this.raft.setCompactionFloor(() => this.projector.floor());
    this.unsubscribe = this.tally.onDecision((d) => this.onDecision(d));
    this.raft.onLeadershipChange(() => this.watchLeader());
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.mark.close();
  }

  /** This node's replicated view of a site. */
  status(siteId: string) {
    return this.machine.get(siteId) ?? null;
  }

  private watchLeader(): void {
    const snap = this.raft.snapshot();
    if (snap.leaderId !== this.leader) {
      this.leader = snap.leaderId;
      this.stats.leaderChanges++;
      this.gossip.setHub(snap.leaderId);
    }
    const isLeader = this.raft.isLeader();
    if (isLeader !== this.wasLeader) {
      this.wasLeader = isLeader;
      this.projector.leadershipChanged(isLeader);
    }
  }

  private onDecision(d: Decision): void {
    // One-off checks (GET /api/simulate) are tallied like sites but never replicated.
    if (d.siteId.startsWith(SIMULATION_PREFIX)) return;
    if (this.machine.isForgotten(d.siteId)) {
      this.stats.droppedForgotten++;
      return;
    }
    if (!this.raft.isLeader()) {
      this.stats.droppedAsFollower++;
      return;
    }
    // Everything finalized in one tick (and within BATCH_WINDOW_MS) is one entry.
    this.pending.push(d);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => void this.flush(), BATCH_WINDOW_MS);
  }

  private async flush(): Promise<void> {
    this.flushTimer = null;
    const all = this.pending;
    this.pending = [];
    const infos = await this.sites
      .getMany(all.filter((d) => d.url === undefined).map((d) => d.siteId))
      .catch(() => new Map<string, SiteInfo | null>());
    const decisions = all.map((d) => {
      const site = d.url === undefined ? infos.get(d.siteId) : null;
      return site ? { ...d, url: site.url } : d;
    });
    for (let i = 0; i < decisions.length; i += MAX_BATCH_DECISIONS) {
      const chunk = decisions.slice(i, i + MAX_BATCH_DECISIONS);
      try {
        await proposeConsensus(this.raft, { t: 'batch', decisions: chunk });
        this.stats.proposed += chunk.length;
        this.stats.batches++;
      } catch (e) {
        this.stats.proposeFailures += chunk.length;
        this.log.warn(
          `${chunk.length} decisions not committed: ${(e as Error).message.slice(0, 200)}`,
        );
      }
    }
  }

  private onApplied(entry: LogEntry, result: unknown, replay: boolean): void {
    const decisions = entry.type === 'command' && isCommandFor(entry.data, DECISIONS_MACHINE);
    if (this.raft.isLeader()) this.projector.kick(decisions);
    if (!decisions) return;
    const r: SiteStatusApplyResult =
      typeof result === 'object' && result !== null && 'kind' in result
        ? (result as SiteStatusApplyResult)
        : { kind: 'ignored', reason: 'malformed', detail: 'undecodable command' };
    this.ring.push({ index: entry.index, term: entry.term, result: r });
    this.stats.applied++;
    // Nobody connected to this node: no owner lookups, no events, no mark to move (what is
    // never broadcast can never be broadcast twice).
    if (replay || !this.realtime?.hasListeners() || !this.mark.claim(entry.index)) return;
    const decided = (r.kind === 'batch' ? r.results : r.kind === 'decision' ? [r] : []).filter(
      (x): x is Extract<DecisionApplyResult, { kind: 'decision' }> => x.kind === 'decision',
    );
    if (decided.length === 0) return;
    // One pass per entry: owners resolved together (cached, misses in one query), then the events.
    void this.sites
      .getMany(decided.map((x) => x.decision.siteId))
      .catch(() => new Map<string, SiteInfo | null>())
      .then((sites) => {
        for (const x of decided) this.broadcast(entry, x, sites.get(x.decision.siteId) ?? null);
      })
      .catch((e: unknown) =>
        this.log.warn(`broadcast of index ${entry.index} failed: ${(e as Error).message}`),
      );
  }

  private broadcast(
    entry: LogEntry,
    r: Extract<SiteStatusApplyResult, { kind: 'decision' }>,
    site: SiteInfo | null,
  ): void {
    const d = r.decision;
    const target = { users: site ? [site.ownerId] : [], sites: [d.siteId] };
    this.realtime!.to(target, 'consensus', {
      url: d.url ?? site?.url ?? '',
      consensus: d.verdict,
      timeStamp: d.decidedAt,
      siteId: d.siteId,
      round: d.round,
      regions: { ...d.regionVerdicts },
      logIndex: entry.index,
    });
    this.realtime!.to(target, 'raft-commit', {
      index: entry.index,
      term: entry.term,
      kind: 'decision',
      siteId: d.siteId,
      round: d.round,
      verdict: d.verdict,
      timeStamp: d.decidedAt,
    });
  }
}
