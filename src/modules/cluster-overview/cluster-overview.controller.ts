import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { Authenticated } from '@/modules/auth/current-user.decorator';
import { ClusterOverviewDto } from './cluster-overview.dto';
import { ClusterOverviewService } from './cluster-overview.service';

@ApiTags('cluster')
@Authenticated()
@Controller('dashboard/cluster')
export class ClusterOverviewController {
  constructor(private readonly cluster: ClusterOverviewService) {}

  @Get()
  @ApiOperation({
    summary: 'Validators, regions, Raft role and term, gossip and tally counters (read-only)',
    description:
      'As seen from the node that answers: its own Raft role and term, the leader it knows, ' +
      'the validators registry with liveness, and this node’s gossip and tally counters. ' +
      'No keys or addresses.',
  })
  @ZodResponse({ status: 200, type: ClusterOverviewDto })
  overview() {
    return this.cluster.overview();
  }
}
