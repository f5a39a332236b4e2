/**
 * GET /api/simulate?url= / ?id= and the node-to-node POST /api/simulate/gossip/check.
 * Needs ConsensusModule, GossipModule, ClusterModule (global); finds the ping
 * Checker and the websites TargetPolicy in the application at init.
 */
import { Module } from '@nestjs/common';
import { ConsensusModule } from '@/modules/consensus/consensus.module';
import { GossipModule } from '@/modules/gossip/gossip.module';
import { SimulateController } from './simulate.controller';
import { SimulateService } from './simulate.service';

@Module({
  imports: [ConsensusModule, GossipModule],
  controllers: [SimulateController],
  providers: [SimulateService],
})
export class SimulateModule {}
