import { All, Controller, Get, HttpCode, HttpException, Param, Post, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ZodResponse, createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { ApiErrors } from '@/modules/auth/api-errors';
import { PushService } from './push.service';

export const beatAckSchema = z.object({
  ok: z.literal(true),
  committedAt: z.iso
    .datetime()
    .describe('the beat’s time as committed in the Raft log (the leader’s clock)'),
});
export class BeatAckDto extends createZodDto(beatAckSchema) {}

const TOKEN = {
  name: 'token',
  description: 'the push token shown when the push site was created or its token rotated',
};
const ERRORS = {
  404: 'no push monitor has this token (NOT_FOUND)',
  429: 'more than 10 beats in 10 s for this token on this node (RATE_LIMITED, with Retry-After)',
  503: 'the beat could not be committed now (no leader, shutting down); its job should retry',
};

/**
 * A job's heartbeat. No session or API key by design: the token in the path is the
 * credential, looked up by its hash. The body, if any, is never read (bootstrap.ts skips the
 * body parser on /api/push/). 200 means the beat is in a committed log entry.
 */
@ApiTags('push')
@Controller('push')
export class PushController {
  constructor(private readonly push: PushService) {}

  @Post(':token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a heartbeat for a push monitor' })
  @ApiParam(TOKEN)
  @ApiErrors(ERRORS)
  @ZodResponse({ status: 200, type: BeatAckDto })
  post(@Param('token') token: string) {
    return this.accept(token);
  }

  @Get(':token')
  @ApiOperation({ summary: 'Send a heartbeat for a push monitor (GET, for curl -s in cron)' })
  @ApiParam(TOKEN)
  @ApiErrors(ERRORS)
  @ZodResponse({ status: 200, type: BeatAckDto })
  get(@Param('token') token: string) {
    return this.accept(token);
  }

  @All(':token')
  @ApiResponse({ status: 405, description: 'only GET and POST send a beat' })
  other(@Res({ passthrough: true }) res: Response): never {
    res.setHeader('Allow', 'GET, POST');
    throw new HttpException('only GET and POST send a beat', 405);
  }

  private async accept(token: string) {
    const ack = await this.push.beat(token);
    return { ok: true as const, committedAt: new Date(ack.at).toISOString() };
  }
}
