import { Module } from '@nestjs/common';
import { DashboardModule } from '@/modules/dashboard/dashboard.module';
import { NotificationsModule } from '@/modules/notifications/notifications.module';
import { PublicStatusController } from './public-status.controller';
import { PublicStatusService } from './public-status.service';
import { StatusPageRepository } from './status-page.repository';
import { StatusPagesController } from './status-pages.controller';
import { StatusPagesService } from './status-pages.service';

/**
 * Public status pages: the owner's CRUD (/api/status-pages) and the public view
 * (/api/public/status-pages/:slug, shown by the web app at /status/:slug). Exports the
 * repository so badges can tell whether a site is public.
 */
@Module({
  imports: [DashboardModule, NotificationsModule],
  controllers: [StatusPagesController, PublicStatusController],
  providers: [StatusPageRepository, StatusPagesService, PublicStatusService],
  exports: [StatusPageRepository],
})
export class StatusPagesModule {}
