import { Controller, Get, MessageEvent, Query, Sse } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import { parseInput } from '@/common/parse-input';
import { AuthUser } from '@/modules/auth/auth.service';
import { Authenticated, CurrentUser } from '@/modules/auth/current-user.decorator';
import { ApiErrors } from '@/modules/auth/api-errors';
import { LogFollower } from './log-follower';
import { logsQuerySchema, LogsService } from './logs.service';

@ApiTags('logs')
@Authenticated()
@Controller('logs')
export class LogsController {
  constructor(
    private readonly logs: LogsService,
    private readonly follower: LogFollower,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Decisions, alerts or ping logs of your sites, newest first (keyset pagination)',
  })
  list(@CurrentUser() user: AuthUser, @Query() query: Record<string, unknown>) {
    return this.logs.page(
      user.id,
      parseInput(logsQuerySchema, query, 'invalid logs query', '(query)'),
    );
  }

  @Sse('stream')
  @ApiOperation({
    summary: 'Follow new decisions, alerts or ping logs as Server-Sent Events (same filters)',
    description:
      'Rows are sent as they are written, late ones included. The stream ends when the token ' +
      'expires or is revoked (logout, password change). At most 5 open streams per account (422 QUOTA_EXCEEDED).',
  })
  @ApiErrors({ 422: 'too many open log streams for this account (QUOTA_EXCEEDED)' })
  stream(
    @CurrentUser() user: AuthUser,
    @Query() query: Record<string, unknown>,
  ): Observable<MessageEvent> {
    const q = parseInput(
      logsQuerySchema,
      { ...query, cursor: undefined },
      'invalid logs query',
      '(query)',
    );
    return this.follower.follow(user, q);
  }
}
