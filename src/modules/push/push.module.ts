/**
 * Push (heartbeat) monitors: POST/GET /api/push/:token, the `beats` part of the replicated
 * state (BeatLedger, read by every validator's push checks) and the beat tokens.
 * Needs AppConfig, RaftHost and ClusterClient from global modules.
 */
import { Module } from '@nestjs/common';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import { ConsensusModule } from '@/modules/consensus/consensus.module';
import { BeatLedger } from './beat-ledger';
import { PushForwardController } from './push-forward.controller';
import { PushTokenRepository } from './push-token.repository';
import { PushController } from './push.controller';
import { PushService } from './push.service';

@Module({
  imports: [ConsensusModule],
  controllers: [PushController, PushForwardController],
  providers: [
    {
      provide: BeatLedger,
      useFactory: (machine: SiteStatusMachine) =>
        new BeatLedger((siteId) => machine.isForgotten(siteId)),
      inject: [SiteStatusMachine],
    },
    PushTokenRepository,
    PushService,
  ],
  exports: [BeatLedger, PushService],
})
export class PushModule {}
