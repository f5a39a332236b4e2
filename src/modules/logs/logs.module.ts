/** GET /api/logs and /api/logs/stream (SSE): decisions, alerts and ping logs of the caller's sites. */
import { Module } from '@nestjs/common';
import { AuthModule } from '@/modules/auth/auth.module';
import { LogFollower } from './log-follower';
import { LogsController } from './logs.controller';
import { LogsService } from './logs.service';

@Module({
  imports: [AuthModule],
  controllers: [LogsController],
  providers: [LogsService, LogFollower],
})
export class LogsModule {}
