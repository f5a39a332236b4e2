import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ParseResourceIdPipe } from '@/common/parse-uuid.pipe';
import { ApiErrors } from '@/modules/auth/api-errors';
import { AuthUser } from '@/modules/auth/auth.service';
import { Authenticated, CurrentUser } from '@/modules/auth/current-user.decorator';
import { LATENCY_BUCKET_BOUNDS_MS } from '@/modules/ping-logs/latency-histogram';
import { HistoryPageDto, HistoryQueryDto, SummaryDto } from './history.dto';
import { HistoryService } from './history.service';
import { SUMMARY_CACHE_MS, SummaryService } from './summary.service';

const SUMMARY_DESCRIPTION = `
Uptime, latency and incidents over the last 24 h, 7 d, 30 d, 90 d and since the first
check ("all"), for all regions together and for each region. Computed from hourly and
daily rollups, never from raw checks.

Window edges: a window of length W ending now starts at the hour boundary at or before
now − W (its \`from\`). Rollup buckets are counted whole, never prorated, so a window holds
between W and W + 1 h of checks. Hours up to the first midnight after \`from\` come from
hourly rollups, later days (including today, up to the last stored check) from daily ones.
"all" sums every daily rollup.

uptimePct = 100·upChecks/checks. Latency figures cover successful checks only; p95 is
estimated from a fixed histogram (bucket lower bounds in ms: 0, ${LATENCY_BUCKET_BOUNDS_MS.join(', ')}):
the bucket holding the ⌈0.95·n⌉-th value, linearly interpolated inside it, capped at the
maximum. Incidents are those overlapping the window; downtimeMs is their duration inside
[from, now]. Region figures count region-specific incidents; the top level counts global ones.
status comes from the consensus (site_status) when it has committed one; otherwise it is
the majority of the most recent round's checks, with since = null.

A summary is at most ${SUMMARY_CACHE_MS / 1000} s old (\`generatedAt\`): it is cached per site for
that long. Status changes are pushed at once over Socket.IO and /ws.`;

@ApiTags('websites')
@Authenticated()
@ApiErrors({ 404: 'no such site for this user (NOT_FOUND); a malformed id is answered the same' })
@Controller('websites')
export class HistoryController {
  constructor(
    private readonly checks: HistoryService,
    private readonly summaries: SummaryService,
  ) {}

  @Get(':id/history')
  @ApiOperation({
    summary: "A site's checks, newest first (cursor pagination)",
    description:
      'Keyset pagination on (checkedAt desc, id desc): pass nextCursor as ?cursor= for the next page; keep the same filters. from is inclusive, to exclusive. Raw checks are kept for PING_LOG_RETENTION_DAYS.',
  })
  @ApiErrors({ 400: 'invalid filter, limit or cursor (VALIDATION_FAILED, with details)' })
  @ZodResponse({ status: 200, type: HistoryPageDto })
  history(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
    @Query() q: HistoryQueryDto,
  ) {
    return this.checks.page(user.id, id, {
      limit: q.limit,
      cursor: q.cursor,
      from: q.from === undefined ? undefined : new Date(q.from),
      to: q.to === undefined ? undefined : new Date(q.to),
      validatorId: q.validator,
      region: q.region,
      up: q.up,
    });
  }

  @Get(':id/summary')
  @ApiOperation({
    summary: 'Current status, uptime, latency and incidents of a site',
    description: SUMMARY_DESCRIPTION,
  })
  @ZodResponse({ status: 200, type: SummaryDto })
  summary(@CurrentUser() user: AuthUser, @Param('id', ParseResourceIdPipe) id: string) {
    return this.summaries.cachedSummary(user.id, id);
  }
}
