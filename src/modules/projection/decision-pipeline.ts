/**
 * Wires the hub tally into Raft and the committed decisions into the world:
 *  - registers the SiteStatusMachine with the Raft host as 'decisions' (onModuleInit,
 *    before the host boots);
 *  - on the leader only, proposes each finalized Decision (url filled in from the site);
 *    followers drop theirs (their tally keeps the open rounds for when they lead);
 *  - on every leader change, points gossip at the leader (the hub);
 *  - on every node, for each applied decision: records it in the ApplyRing and broadcasts
 *    a consensus update and a raft-commit to the site's owner and site rooms;
 *  - on the leader, the DecisionProjector writes rows and raises alerts.
 */
import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { encodeCommand, type Decision } from '@/core/consensus/decision';
import {
  SiteStatusMachine,
  type SiteStatusApplyResult,
} from '@/core/consensus/site-status.machine';
import type { LogEntry } from '@/core/raft/raft.types';
import { AlertPublisher } from '@/modules/alerts/alert.publisher';
import { ApplyRing } from '@/modules/consensus/apply-ring';
import { TallyService } from '@/modules/consensus/tally.service';
import { GossipService } from '@/modules/gossip/gossip.service';
import { RaftHost } from '@/modules/raft/raft-host';
import { RealtimePublisher } from '@/modules/realtime/realtime.publisher';
import { SIMULATION_PREFIX } from '@/modules/simulate/simulation-id';
import { DecisionProjector } from './decision.projector';
import { SiteDirectory } from './site-directory';

export const DECISIONS_MACHINE = 'decisions';

export interface PipelineStats {
  proposed: number;
  proposeFailures: number;
  droppedAsFollower: number;
  applied: number;
  leaderChanges: number;
}

@Injectable()
export class DecisionPipeline implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('DecisionPipeline');
  readonly ring = new ApplyRing();
  private leader: string | null = null;
  private wasLeader = false;
  private unsubscribe: (() => void) | null = null;
  readonly stats: PipelineStats = {
    proposed: 0,
    proposeFailures: 0,
    droppedAsFollower: 0,
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
    @Optional() private readonly realtime?: RealtimePublisher,
  ) {}

  onModuleInit(): void {
    this.raft.register(DECISIONS_MACHINE, this.machine);
    this.raft.onCommit((entry, result, replay) => this.onApplied(entry, result, replay));
    let alerts: AlertPublisher | null = null;
    try {
      alerts = this.moduleRef.get(AlertPublisher, { strict: false });
    } catch {
      this.log.warn('no AlertPublisher in this application: transitions raise no alerts');
    }
    this.projector.bind(this.ring, () => this.raft.isLeader(), alerts);
    this.unsubscribe = this.tally.onDecision((d) => this.onDecision(d));
    this.raft.onLeadershipChange(() => this.watchLeader());
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
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
      this.projector.leadershipChanged();
    }
  }

  private onDecision(d: Decision): void {
    // One-off checks (GET /api/simulate) are tallied like sites but never replicated.
    if (d.siteId.startsWith(SIMULATION_PREFIX)) return;
    if (!this.raft.isLeader()) {
      this.stats.droppedAsFollower++;
      return;
    }
    void this.propose(d);
  }

  private async propose(d: Decision): Promise<void> {
    try {
      let decision = d;
      if (decision.url === undefined) {
        const site = await this.sites.get(d.siteId).catch(() => null);
        if (site) decision = { ...d, url: site.url };
      }
      // The part receives JSON.stringify(command): keep encodeCommand's exact bytes.
      const command: unknown = JSON.parse(encodeCommand({ t: 'decision', decision }));
      await this.raft.propose(DECISIONS_MACHINE, command);
      this.stats.proposed++;
    } catch (e) {
      this.stats.proposeFailures++;
      this.log.warn(
        `decision ${d.siteId}#${d.round} not committed: ${(e as Error).message.slice(0, 200)}`,
      );
    }
  }

  private onApplied(entry: LogEntry, result: unknown, replay: boolean): void {
    this.ring.seen(entry.index);
    if (!isDecisionsEntry(entry)) return;
    const r: SiteStatusApplyResult =
      typeof result === 'object' && result !== null && 'kind' in result
        ? (result as SiteStatusApplyResult)
        : { kind: 'ignored', reason: 'malformed', detail: 'undecodable command' };
    this.ring.push({ index: entry.index, term: entry.term, result: r });
    this.stats.applied++;
    if (this.raft.isLeader()) this.projector.kick();
    if (replay || r.kind !== 'decision' || !this.realtime) return;
    void this.broadcast(entry, r).catch((e: unknown) =>
      this.log.warn(`broadcast of index ${entry.index} failed: ${(e as Error).message}`),
    );
  }

  private async broadcast(
    entry: LogEntry,
    r: Extract<SiteStatusApplyResult, { kind: 'decision' }>,
  ): Promise<void> {
    const d = r.decision;
    const site = await this.sites.get(d.siteId).catch(() => null);
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

function isDecisionsEntry(entry: LogEntry): boolean {
  const data =
    typeof entry.data === 'string' ? entry.data : Buffer.from(entry.data).toString('utf8');
  return data.startsWith(`{"m":"${DECISIONS_MACHINE}"`);
}
