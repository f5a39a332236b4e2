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
    {
      provide: TallyService,
      useFactory: (c: AppConfig) => new TallyService(c),
      inject: [AppConfig],
    },
    { provide: VoteInbox, useExisting: TallyService },
    { provide: SiteStatusMachine, useFactory: () => new SiteStatusMachine() },
  ],
  exports: [TallyService, VoteInbox, SiteStatusMachine],
})
export class ConsensusModule {}
