import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors } from '@/modules/auth/api-errors';
import { MetricsService } from './metrics.service';

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics of this node (text exposition format)',
    description:
      'Not under /api. With METRICS_PORT set it is served on that port only. With METRICS_TOKEN ' +
      'set it needs "Authorization: Bearer <METRICS_TOKEN>" (not a user token). With neither, ' +
      'it is open in development and test and refused in production.',
  })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'text/plain; version=0.0.4', type: String })
  @ApiErrors({
    401: 'METRICS_TOKEN is set and the bearer token is not it (UNAUTHENTICATED)',
    403: 'production without METRICS_TOKEN or METRICS_PORT (FORBIDDEN)',
    404: 'METRICS_PORT is set: scrape that port instead (NOT_FOUND)',
  })
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const text = await this.metrics.scrape('main', authorization);
    res.setHeader('Content-Type', this.metrics.contentType);
    res.setHeader('Cache-Control', 'no-store');
    return text;
  }
}
