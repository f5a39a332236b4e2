import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller';
import { SiteReadsRepository } from './site-reads.repository';
import { SiteReadsService } from './site-reads.service';

/**
 * Read models of the web dashboard (GET /api/dashboard/sites…). Exports SiteReadsService,
 * which status pages and badges read through with the page owner's id.
 */
@Module({
  controllers: [DashboardController],
  providers: [SiteReadsRepository, SiteReadsService],
  exports: [SiteReadsService],
})
export class DashboardModule {}
