import { Module } from '@nestjs/common';
import { DnsModule } from '@/modules/dns/dns.module';
import { SiteChanges } from './site-changes';
import { TargetPolicy } from './target-policy';
import { WebsiteRepository } from './website.repository';
import { WebsiteSiteSource } from './website.site-source';
import { WebsitesController } from './websites.controller';
import { WebsitesService } from './websites.service';

/**
 * Sites and their owners' CRUD. Exports the repository (ownership checks for the
 * history module) and the DB-backed SiteSource the ping scheduler reads.
 */
@Module({
  imports: [DnsModule],
  controllers: [WebsitesController],
  providers: [WebsitesService, WebsiteRepository, TargetPolicy, SiteChanges, WebsiteSiteSource],
  exports: [WebsiteRepository, WebsiteSiteSource],
})
export class WebsitesModule {}
