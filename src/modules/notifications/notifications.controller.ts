import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ParseResourceIdPipe } from '@/common/parse-uuid.pipe';
import { ApiErrors, BODY_ERRORS } from '@/modules/auth/api-errors';
import { AuthUser } from '@/modules/auth/auth.service';
import { Authenticated, CurrentUser } from '@/modules/auth/current-user.decorator';
import { presentSettings } from './channel-config';
import { ChannelRecord } from './channel.repository';
import { ChannelsService } from './channels.service';
import { DeliveryLogService } from './delivery-log.service';
import {
  ChannelDto,
  ChannelListDto,
  CreateChannelDto,
  DeliveryPageDto,
  DeliveryQueryDto,
  SiteNotificationsDto,
  SiteNotificationsInputDto,
  TestResultDto,
  UpdateChannelDto,
} from './notifications.dto';

const NOT_FOUND = 'no such channel for this user (NOT_FOUND); a malformed id is answered the same';
const REFUSED =
  "the channel's destination resolves to a loopback, private, link-local, multicast or cloud-metadata address, or does not resolve (TARGET_NOT_ALLOWED)";

@ApiTags('notifications')
@Authenticated()
@Controller('notifications')
export class NotificationsController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly log: DeliveryLogService,
  ) {}

  @Post('channels')
  @ApiOperation({
    summary:
      'Create a notification channel (webhook, Slack, Discord, Telegram, PagerDuty, Mattermost)',
  })
  @ApiErrors({ ...BODY_ERRORS, 409: 'channel quota reached (CONFLICT)', 422: REFUSED })
  @ZodResponse({ status: 201, type: ChannelDto })
  async create(@CurrentUser() user: AuthUser, @Body() body: CreateChannelDto) {
    return presentChannel(await this.channels.create(user.id, body));
  }

  @Get('channels')
  @ApiOperation({ summary: "The caller's channels, secrets masked" })
  @ZodResponse({ status: 200, type: ChannelListDto })
  async list(@CurrentUser() user: AuthUser) {
    return { items: (await this.channels.list(user.id)).map(presentChannel) };
  }

  @Get('channels/:id')
  @ApiOperation({ summary: 'One channel, secrets masked' })
  @ApiErrors({ 404: NOT_FOUND })
  @ZodResponse({ status: 200, type: ChannelDto })
  async get(@CurrentUser() user: AuthUser, @Param('id', ParseResourceIdPipe) id: string) {
    return presentChannel(await this.channels.get(user.id, id));
  }

  @Put('channels/:id')
  @ApiOperation({ summary: 'Change a channel; secrets left out of settings keep their value' })
  @ApiErrors({ ...BODY_ERRORS, 404: NOT_FOUND, 422: REFUSED })
  @ZodResponse({ status: 200, type: ChannelDto })
  async update(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
    @Body() body: UpdateChannelDto,
  ) {
    return presentChannel(await this.channels.update(user.id, id, body));
  }

  @Delete('channels/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a channel with its delivery log' })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiErrors({ 404: NOT_FOUND })
  async remove(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
  ): Promise<void> {
    await this.channels.remove(user.id, id);
  }

  @Post('channels/:id/test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a test notification now; says whether the provider accepted it' })
  @ApiErrors({ 404: NOT_FOUND, 429: 'more than 10 tests a minute (RATE_LIMITED)' })
  @ZodResponse({ status: 200, type: TestResultDto })
  test(@CurrentUser() user: AuthUser, @Param('id', ParseResourceIdPipe) id: string) {
    return this.channels.test(user.id, id);
  }

  @Get('deliveries')
  @ApiOperation({
    summary:
      'Delivery log: per alert and channel, status, attempts, last status code and error (no secrets)',
  })
  @ApiErrors({ 400: 'invalid filter or cursor (VALIDATION_FAILED)' })
  @ZodResponse({ status: 200, type: DeliveryPageDto })
  deliveries(@CurrentUser() user: AuthUser, @Query() query: DeliveryQueryDto) {
    return this.log.page(user.id, query);
  }
}

@ApiTags('notifications')
@Authenticated()
@Controller('websites/:id/notifications')
export class SiteNotificationsController {
  constructor(private readonly channels: ChannelsService) {}

  @Get()
  @ApiOperation({
    summary: "A site's routing (which channels get which alert kinds) and reminders",
  })
  @ApiErrors({ 404: 'no such site for this user (NOT_FOUND)' })
  @ZodResponse({ status: 200, type: SiteNotificationsDto })
  get(@CurrentUser() user: AuthUser, @Param('id', ParseResourceIdPipe) id: string) {
    return this.channels.siteSettings(user.id, id);
  }

  @Put()
  @ApiOperation({ summary: "Set a site's routes (replacing them) and/or its reminder interval" })
  @ApiErrors({ ...BODY_ERRORS, 404: 'no such site or channel for this user (NOT_FOUND)' })
  @ZodResponse({ status: 200, type: SiteNotificationsDto })
  put(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseResourceIdPipe) id: string,
    @Body() body: SiteNotificationsInputDto,
  ) {
    return this.channels.saveSiteSettings(user.id, id, body);
  }
}

export function presentChannel(c: ChannelRecord) {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    settings: presentSettings(c.type, c.config, c.secrets),
    defaultKinds: c.defaultKinds,
    enabled: c.enabled,
    state: c.state,
    failingSince: c.failingSince?.toISOString() ?? null,
    lastFailureAt: c.lastFailureAt?.toISOString() ?? null,
    lastSuccessAt: c.lastSuccessAt?.toISOString() ?? null,
    lastError: c.lastError,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}
