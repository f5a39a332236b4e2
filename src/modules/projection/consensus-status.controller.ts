import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import { SITE_ID_PATTERN } from '@/core/consensus/vote';
import { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import { ClusterAuthGuard, ClusterMembershipOnly } from '@/infra/cluster/cluster-auth.guard';
import { TallyService } from '@/modules/consensus/tally.service';
import { GossipService } from '@/modules/gossip/gossip.service';
import { RaftHost } from '@/modules/raft/raft-host';
import { DecisionPipeline } from './decision-pipeline';
import { DecisionProjector } from './decision.projector';

/**
 * GET /api/consensus/status/:siteId (cluster credential): this node's replicated
 * status of one site, its Raft role and the pipeline/projector counters. Used by
 * operators and the consensus e2e tests to compare nodes.
 */
@ApiExcludeController()
@UseGuards(ClusterAuthGuard)
@ClusterMembershipOnly()
@Controller('consensus')
export class ConsensusStatusController {
  constructor(
    private readonly pipeline: DecisionPipeline,
    private readonly projector: DecisionProjector,
    private readonly raft: RaftHost,
    private readonly tally: TallyService,
    private readonly gossip: GossipService,
    private readonly machine: SiteStatusMachine,
    private readonly config: AppConfig,
  ) {}

  @Get('status/:siteId')
  status(@Param('siteId') siteId: string) {
    if (!SITE_ID_PATTERN.test(siteId)) throw new DomainError('VALIDATION_FAILED', 'bad site id');
    return {
      node: this.raft.snapshot(),
      site: this.pipeline.status(siteId),
      /** the committed schedule segment (null: legacy grid or forgotten) */
      schedule: this.machine.schedule(siteId) ?? null,
      forgotten: this.machine.isForgotten(siteId),
      machine: this.machine.counters,
      rules: {
        minVotes: this.config.consensus.minVotes,
        quorumThreshold: this.config.consensus.quorumThreshold,
        gossipAllowanceMs: this.config.consensus.tallyDeadlineMs,
      },
      pipeline: this.pipeline.stats,
      projector: { ...this.projector.stats, current: this.projector.current },
      tally: this.tally.stats(),
      gossip: this.gossip.stats(),
      ring: { size: this.pipeline.ring.size },
      compactionFloor: this.projector.floor(),
      /** the recent committed entries of this site that this node applied (at most 200) */
      entries: this.pipeline.ring.forSite(siteId, 200).map((e) => ({
        index: e.index,
        term: e.term,
        kind: e.result.kind,
        round:
          e.result.kind === 'decision' || e.result.kind === 'ignored'
            ? (e.result.decision?.round ?? null)
            : null,
        verdict: e.result.kind === 'decision' ? e.result.decision.verdict : null,
        transitions:
          e.result.kind === 'decision' ? e.result.transitions.map((t) => t.dedupKey) : [],
      })),
    };
  }
}
