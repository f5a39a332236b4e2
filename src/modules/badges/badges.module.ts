import { Module } from '@nestjs/common';
import { DashboardModule } from '@/modules/dashboard/dashboard.module';
import { StatusPagesModule } from '@/modules/status-pages/status-pages.module';
import { BadgesController } from './badges.controller';
import { BadgesService } from './badges.service';

/** GET /api/badge/:siteId/status.svg and /uptime.svg for sites on a public status page. */
@Module({
  imports: [DashboardModule, StatusPagesModule],
  controllers: [BadgesController],
  providers: [BadgesService],
})
export class BadgesModule {}
