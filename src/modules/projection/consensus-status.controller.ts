import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SITE_ID_PATTERN } from '@/core/consensus/vote';
import { DomainError } from '@/common/domain-error';
import { ClusterAuthGuard } from '@/infra/cluster/cluster-auth.guard';
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
@Controller('consensus')
export class ConsensusStatusController {
  constructor(
    private readonly pipeline: DecisionPipeline,
    private readonly projector: DecisionProjector,
    private readonly raft: RaftHost,
    private readonly tally: TallyService,
    private readonly gossip: GossipService,
  ) {}

  @Get('status/:siteId')
  status(@Param('siteId') siteId: string) {
    if (!SITE_ID_PATTERN.test(siteId)) throw new DomainError('VALIDATION_FAILED', 'bad site id');
    return {
      node: this.raft.snapshot(),
      site: this.pipeline.status(siteId),
      pipeline: this.pipeline.stats,
      projector: this.projector.stats,
      tally: this.tally.stats(),
      gossip: this.gossip.stats(),
      ring: { size: this.pipeline.ring.size, floor: this.pipeline.ring.floor() },
      /** the recent committed entries of this site that this node applied (at most 200) */
      entries: this.pipeline.ring.forSite(siteId, 200).map((e) => ({
        index: e.index,
        term: e.term,
        kind: e.result.kind,
        round: e.result.kind === 'forgot' ? null : (e.result.decision?.round ?? null),
        verdict: e.result.kind === 'decision' ? e.result.decision.verdict : null,
        transitions:
          e.result.kind === 'decision' ? e.result.transitions.map((t) => t.dedupKey) : [],
      })),
    };
  }
}
