/**
 * Consensus: the hub tally (VoteInbox/TallyService) and the site status state
 * machine the Raft host applies committed decisions to. Needs AppConfig (global).
 */
import { Module } from '@nestjs/common';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import { AppConfig } from '@/config/app-config';
import { TallyService } from './tally.service';
import { VoteInbox } from './vote-inbox';

@Module({
  providers: [
    { provide: SiteStatusMachine, useFactory: () => new SiteStatusMachine() },
    {
      provide: TallyService,
      useFactory: (c: AppConfig, m: SiteStatusMachine) => new TallyService(c, m),
      inject: [AppConfig, SiteStatusMachine],
    },
    { provide: VoteInbox, useExisting: TallyService },
  ],
  exports: [TallyService, VoteInbox, SiteStatusMachine],
})
export class ConsensusModule {}
