import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { ParseResourceIdPipe } from '@/common/parse-uuid.pipe';
import { ApiErrors } from '@/modules/auth/api-errors';
import { UPTIME_WINDOWS } from './badge-text';
import { BADGE_MAX_AGE_S, BadgesService } from './badges.service';

const uptimeQuerySchema = z.strictObject({
  window: z.enum(UPTIME_WINDOWS).default('30d').describe('24h, 7d, 30d or 90d'),
});
class UptimeQueryDto extends createZodDto(uptimeQuerySchema) {}

const NOT_PUBLIC = 'the site is not on any public status page, or does not exist (NOT_FOUND)';

/** Public: no authentication; only sites on a status page have badges. */
@ApiTags('status pages')
@Controller('badge')
export class BadgesController {
  constructor(private readonly badges: BadgesService) {}

  @Get(':siteId/status.svg')
  @ApiOperation({ summary: 'SVG badge of a public site’s current status' })
  @ApiProduces('image/svg+xml')
  @ApiResponse({ status: 200, description: 'the badge (cacheable)' })
  @ApiErrors({ 404: NOT_PUBLIC })
  async status(
    @Param('siteId', ParseResourceIdPipe) siteId: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    return svg(res, await this.badges.status(siteId));
  }

  @Get(':siteId/uptime.svg')
  @ApiOperation({ summary: 'SVG badge of a public site’s uptime over a window (default 30d)' })
  @ApiProduces('image/svg+xml')
  @ApiResponse({ status: 200, description: 'the badge (cacheable)' })
  @ApiErrors({ 400: 'unknown window (VALIDATION_FAILED)', 404: NOT_PUBLIC })
  async uptime(
    @Param('siteId', ParseResourceIdPipe) siteId: string,
    @Query() q: UptimeQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    return svg(res, await this.badges.uptime(siteId, q.window));
  }
}

/** Headers only on success: a 404 must not be cached as if it were a badge. */
function svg(res: Response, body: string): string {
  res.setHeader('Content-Type', 'image/svg+xml; charset=utf-8');
  res.setHeader('Cache-Control', `public, max-age=${BADGE_MAX_AGE_S}`);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  return body;
}
