import { Module } from '@nestjs/common';
import { ConsensusModule } from '@/modules/consensus/consensus.module';
import { GossipModule } from '@/modules/gossip/gossip.module';
import { ClusterOverviewController } from './cluster-overview.controller';
import { ClusterOverviewService } from './cluster-overview.service';
import { ValidatorListRepository } from './validator-list.repository';

/** GET /api/dashboard/cluster for signed-in users (the dashboard's cluster page). ClusterStatus is global. */
@Module({
  imports: [GossipModule, ConsensusModule],
  controllers: [ClusterOverviewController],
  providers: [ClusterOverviewService, ValidatorListRepository],
})
export class ClusterOverviewModule {}
