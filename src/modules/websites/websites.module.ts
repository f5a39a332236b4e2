import { Module } from '@nestjs/common';
import { AuthModule } from '@/modules/auth/auth.module';
import { ConsensusModule } from '@/modules/consensus/consensus.module';
import { DnsModule } from '@/modules/dns/dns.module';
import { CertificatesModule } from '@/modules/ping/certificate-ledger';
import { PushModule } from '@/modules/push/push.module';
import { SiteChanges } from './site-changes';
import { TargetPolicy } from './target-policy';
import { WebsiteRepository } from './website.repository';
import { SiteScheduleReconciler } from './site-schedule.reconciler';
import { WebsiteSiteSource } from './website.site-source';
import { WebsitesController } from './websites.controller';
import { WebsitesService } from './websites.service';

/**
 * Sites and their owners' CRUD. Exports the repository (ownership checks for the
 * history module) and the DB-backed SiteSource the ping scheduler reads.
 */
@Module({
  imports: [DnsModule, AuthModule, ConsensusModule, CertificatesModule, PushModule],
  controllers: [WebsitesController],
  providers: [
    WebsitesService,
    WebsiteRepository,
    TargetPolicy,
    SiteChanges,
    WebsiteSiteSource,
    SiteScheduleReconciler,
  ],
  exports: [WebsiteRepository, WebsiteSiteSource, WebsitesService],
})
export class WebsitesModule {}
