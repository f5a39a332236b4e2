import { Controller, Get, MessageEvent, Query, Sse } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import { parseInput } from '@/common/parse-input';
import { AuthUser } from '@/modules/auth/auth.service';
import { Authenticated, CurrentUser } from '@/modules/auth/current-user.decorator';
import { logsQuerySchema, LogsService } from './logs.service';

const FOLLOW_POLL_MS = 1_000;

@ApiTags('logs')
@Authenticated()
@Controller('logs')
export class LogsController {
  constructor(private readonly logs: LogsService) {}

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
  })
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
    return new Observable<MessageEvent>((sub) => {
      let after = { t: Date.now(), id: '' };
      let stopped = false;
      let timer: NodeJS.Timeout | null = null;
      const poll = async () => {
        try {
          const rows = await this.logs.after(user.id, q, after);
          for (const row of rows) sub.next({ type: row.type, id: row.id, data: row });
          const last = rows.at(-1);
          if (last) after = { t: Date.parse(last.at), id: last.id };
        } catch {
          // the database is briefly unavailable: try again on the next tick
        }
        if (!stopped) timer = setTimeout(() => void poll(), FOLLOW_POLL_MS);
      };
      void poll();
      return () => {
        stopped = true;
        if (timer) clearTimeout(timer);
      };
    });
  }
}
