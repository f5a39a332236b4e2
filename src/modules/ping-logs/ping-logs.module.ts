/**
 * The ping-log writer: health-logs topic → ping_logs + hourly/daily rollups, and the
 * raw-log retention job. Needs AppConfig, EventBus and PrismaService from global modules.
 */
import { Module } from '@nestjs/common';
import { PingLogRetention } from './ping-log-retention';
import { PingLogRepository } from './ping-log.repository';
import { PingLogWriter } from './ping-log.writer';

@Module({
  providers: [PingLogRepository, PingLogWriter, PingLogRetention],
  exports: [PingLogWriter],
})
export class PingLogsModule {}
