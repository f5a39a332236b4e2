import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ParseResourceIdPipe } from '@/common/parse-uuid.pipe';
import { ApiErrors, BODY_ERRORS } from '@/modules/auth/api-errors';
import { AuthUser } from '@/modules/auth/auth.service';
import { Authenticated, CurrentUser } from '@/modules/auth/current-user.decorator';
import {
  CreateWebsiteDto,
  ListQueryDto,
  PauseDto,
  PushTokenDto,
  UpdateWebsiteDto,
  WebsiteDto,
  WebsitePageDto,
} from './website.dto';
import { WebsiteView, WebsitesService } from './websites.service';

const NOT_FOUND = 'no such site for this user (NOT_FOUND); a malformed id is answered the same';
const TARGET_REFUSED =
  'the URL host resolves to a loopback, private, link-local, multicast or cloud-metadata address (TARGET_NOT_ALLOWED; a name that does not resolve yet is accepted)';

@ApiTags('websites')
@Authenticated()
@Controller('websites')
export class WebsitesController {
  constructor(private readonly websites: WebsitesService) {}

  @Post()
  @ApiOperation({ summary: 'Register a site to monitor' })
  @ApiErrors({
    ...BODY_ERRORS,
    422: `${TARGET_REFUSED}; or the account has MAX_SITES_PER_USER sites already (QUOTA_EXCEEDED)`,
  })
  @ZodResponse({ status: 201, type: WebsiteDto })
  async create(@CurrentUser() user: AuthUser, @Body() body: CreateWebsiteDto) {
    return present(await this.websites.create(user.id, body));
  }

  @Get()
  @ApiOperation({ summary: "List the caller's sites, newest first" })
  @ApiErrors({ 400: 'invalid limit or cursor (VALIDATION_FAILED)' })
  @ZodResponse({ status: 200, type: WebsitePageDto })
  async list(@CurrentUser() user: AuthUser, @Query() query: ListQueryDto) {
    const page = await this.websites.list(user.id, query.limit, query.cursor);
    return { items: page.items.map(present), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One site' })
  @ApiErrors({ 404: NOT_FOUND })
  @ZodResponse({ status: 200, type: WebsiteDto })
  async get(@CurrentUser() user: AuthUser, @Param('id', ParseResourceIdPipe) id: string) {
    return present(await this.websites.get(user.id, id));
  }

  @Put(':id')
  @ApiOperation({ summary: 'Change a site (any subset of its fields)' })
  @ApiErrors({ ...BODY_ERRORS, 404: NOT_FOUND, 422: TARGET_REFUSED })
  @ZodResponse({ status: 200, type: WebsiteDto })
  async update(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
    @Body() body: UpdateWebsiteDto,
  ) {
    return present(await this.websites.update(user.id, id, body));
  }

  @Put(':id/pause')
  @ApiOperation({ summary: 'Pause ({"paused":true}) or resume ({"paused":false}) checks' })
  @ApiErrors({ ...BODY_ERRORS, 404: NOT_FOUND })
  @ZodResponse({ status: 200, type: WebsiteDto })
  async pause(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
    @Body() body: PauseDto,
  ) {
    return present(await this.websites.setPaused(user.id, id, body.paused));
  }

  @Post(':id/push-token')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Rotate a push site’s beat token: the new one is shown once, the old one stops working',
  })
  @ApiErrors({ 400: 'the site is not a push site (VALIDATION_FAILED)', 404: NOT_FOUND })
  @ZodResponse({ status: 200, type: PushTokenDto })
  async rotatePushToken(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
  ) {
    const token = await this.websites.rotatePushToken(user.id, id);
    return { token, beatUrl: `/api/push/${token}` };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Stop monitoring and delete a site with its history' })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiErrors({ 404: NOT_FOUND })
  async remove(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
  ): Promise<void> {
    await this.websites.remove(user.id, id);
  }
}

function present({ site: s, status, lastCheck, certificate, pushToken, lastBeat }: WebsiteView) {
  const iso = (t: number | null | undefined) =>
    t === null || t === undefined ? null : new Date(t).toISOString();
  return {
    id: s.id,
    name: s.name,
    url: s.url,
    check: s.check,
    intervalMs: s.intervalMs,
    timeoutMs: s.timeoutMs,
    expectedStatus: s.expectedStatus,
    keyword: s.keyword,
    paused: s.paused,
    downAfterRounds: s.downAfterRounds,
    upAfterRounds: s.upAfterRounds,
    retries: s.retries,
    retryDelayMs: s.retryDelayMs,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    status: {
      verdict: status?.verdict ?? 'UNKNOWN',
      since: iso(status?.since),
      regions: Object.fromEntries(
        Object.entries(status?.regions ?? {}).map(([name, r]) => [
          name,
          { verdict: r.verdict, since: iso(r.since) },
        ]),
      ),
      lastRound: status?.lastRound ?? null,
      lastDecidedAt: iso(status?.lastDecidedAt),
      pending: status?.pending ?? null,
      lastCheck: lastCheck
        ? {
            checkedAt: lastCheck.checkedAt.toISOString(),
            latencyMs: lastCheck.latencyMs,
            up: lastCheck.up,
          }
        : null,
      certificate: certificate
        ? {
            validTo: new Date(certificate.validTo).toISOString(),
            daysLeft: certificate.daysLeft,
            warning: certificate.warning ?? false,
            checkedAt: new Date(certificate.checkedAt).toISOString(),
          }
        : null,
      ...(lastBeat !== undefined ? { lastBeatAt: iso(lastBeat) } : {}),
    },
    ...(pushToken ? { pushToken } : {}),
  };
}
