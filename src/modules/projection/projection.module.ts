/**
 * The Raft-integrated consensus pipeline: decisions proposed by the leader, applied
 * everywhere, broadcast in real time and projected into PostgreSQL by the leader.
 * Needs RaftModule and DatabaseModule (global), ConsensusModule, GossipModule and
 * RealtimeModule; finds AlertPublisher in the application (AlertsModule.forRoot) at init.
 */
import { Module } from '@nestjs/common';
import { ConsensusModule } from '@/modules/consensus/consensus.module';
import { GossipModule } from '@/modules/gossip/gossip.module';
import { RealtimeModule } from '@/modules/realtime/realtime.module';
import { ConsensusStatusController } from './consensus-status.controller';
import { DecisionPipeline } from './decision-pipeline';
import { DecisionProjector } from './decision.projector';
import { PrismaProjectionStore } from './projection.store';
import { SiteDirectory } from './site-directory';

@Module({
  imports: [ConsensusModule, GossipModule, RealtimeModule],
  controllers: [ConsensusStatusController],
  providers: [SiteDirectory, PrismaProjectionStore, DecisionProjector, DecisionPipeline],
  exports: [DecisionPipeline, DecisionProjector],
})
export class ProjectionModule {}
