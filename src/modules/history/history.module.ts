/**
 * Read side of checks: GET /api/websites/:id/history (raw ping logs, keyset pages) and
 * GET /api/websites/:id/summary (from rollups). Ownership through WebsiteRepository.
 */
import { Module } from '@nestjs/common';
import { WebsitesModule } from '@/modules/websites/websites.module';
import { HistoryController } from './history.controller';
import { HistoryService } from './history.service';
import { PingHistoryRepository } from './ping-history.repository';
import { SummaryRepository } from './summary.repository';
import { SummaryService } from './summary.service';

@Module({
  imports: [WebsitesModule],
  controllers: [HistoryController],
  providers: [HistoryService, SummaryService, PingHistoryRepository, SummaryRepository],
})
export class HistoryModule {}
