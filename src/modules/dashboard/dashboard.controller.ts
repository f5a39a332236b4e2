import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ParseResourceIdPipe } from '@/common/parse-uuid.pipe';
import { ApiErrors } from '@/modules/auth/api-errors';
import { AuthUser } from '@/modules/auth/auth.service';
import { Authenticated, CurrentUser } from '@/modules/auth/current-user.decorator';
import {
  DaysDto,
  DaysQueryDto,
  DecisionsPageDto,
  DecisionsQueryDto,
  IncidentsDto,
  IncidentsQueryDto,
  OverviewPageDto,
  OverviewQueryDto,
  SiteOverviewDto,
} from './dashboard.dto';
import { SiteReadsService } from './site-reads.service';

const NOT_FOUND = 'no such site for this user (NOT_FOUND); a malformed id is answered the same';

/** Read models of the web dashboard: what one screen needs in one request. */
@ApiTags('dashboard')
@Authenticated()
@Controller('dashboard/sites')
export class DashboardController {
  constructor(private readonly reads: SiteReadsService) {}

  @Get()
  @ApiOperation({
    summary: "The caller's sites with status, last check, 24 h uptime and an hourly sparkline",
    description:
      'Newest first, keyset pages of up to 1000 (the same order and cursor as GET /api/websites). ' +
      'Uptime and sparkline come from the hourly rollups (all regions), the last check from the ping logs.',
  })
  @ApiErrors({ 400: 'invalid limit, cursor or ids (VALIDATION_FAILED)' })
  @ZodResponse({ status: 200, type: OverviewPageDto })
  async list(@CurrentUser() user: AuthUser, @Query() q: OverviewQueryDto) {
    if (q.ids) {
      const ids = [...new Set(q.ids.map((id) => id.toLowerCase()))];
      const items = await this.reads.overviewOf(user.id, ids, q.stats);
      return { items, nextCursor: null, total: null, stats: q.stats };
    }
    return {
      ...(await this.reads.overviewPage(user.id, q.limit, q.cursor, q.stats)),
      stats: q.stats,
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One site as in the list' })
  @ApiErrors({ 404: NOT_FOUND })
  @ZodResponse({ status: 200, type: SiteOverviewDto })
  one(@CurrentUser() user: AuthUser, @Param('id', ParseResourceIdPipe) id: string) {
    return this.reads.site(user.id, id);
  }

  @Get(':id/days')
  @ApiOperation({ summary: 'Daily uptime bars (all regions), up to 90 days, today last' })
  @ApiErrors({ 400: 'invalid days (VALIDATION_FAILED)', 404: NOT_FOUND })
  @ZodResponse({ status: 200, type: DaysDto })
  async days(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
    @Query() q: DaysQueryDto,
  ) {
    return { siteId: id, days: await this.reads.days(user.id, id, q.days) };
  }

  @Get(':id/incidents')
  @ApiOperation({ summary: 'Incidents (global and per region), newest first, with durations' })
  @ApiErrors({ 400: 'invalid limit (VALIDATION_FAILED)', 404: NOT_FOUND })
  @ZodResponse({ status: 200, type: IncidentsDto })
  async incidents(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
    @Query() q: IncidentsQueryDto,
  ) {
    return { items: await this.reads.incidents(user.id, id, q.limit) };
  }

  @Get(':id/decisions')
  @ApiOperation({
    summary: 'Committed verdicts with the tally behind each',
    description:
      'Newest first. Each verdict carries its Raft log index and term, the vote counts (overall ' +
      'and per region) and one entry per validator counted: region, up or down, latency, HTTP ' +
      'status and failure class.',
  })
  @ApiErrors({ 400: 'invalid limit or cursor (VALIDATION_FAILED)', 404: NOT_FOUND })
  @ZodResponse({ status: 200, type: DecisionsPageDto })
  decisions(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
    @Query() q: DecisionsQueryDto,
  ) {
    return this.reads.decisions(user.id, id, q.limit, q.cursor);
  }
}
