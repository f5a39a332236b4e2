import { Controller, Get, Header, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiErrors } from '@/modules/auth/api-errors';
import { PublicStatusPageDto } from './status-page.dto';
import { PUBLIC_VIEW_CACHE_MS, PublicStatusService } from './public-status.service';

/** No authentication: this is what /status/<slug> shows to anyone. */
@ApiTags('status pages')
@Controller('public/status-pages')
export class PublicStatusController {
  constructor(private readonly views: PublicStatusService) {}

  @Get(':slug')
  @Header('Cache-Control', `public, max-age=${PUBLIC_VIEW_CACHE_MS / 1000}`)
  @ApiOperation({
    summary: 'A public status page: per-site and per-region state, uptime bars, incidents',
    description:
      'Read-only and unauthenticated. Shows only the sites the page owner listed; their URLs only ' +
      `when the owner chose to show them. At most ${PUBLIC_VIEW_CACHE_MS / 1000} s old.`,
  })
  @ApiErrors({ 404: 'no status page with this slug (NOT_FOUND)' })
  @ZodResponse({ status: 200, type: PublicStatusPageDto })
  view(@Param('slug') slug: string) {
    return this.views.view(slug);
  }
}
