import { Body, Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { parseInput } from '@/common/parse-input';
import { httpUrlSchema } from '@/common/http-url.schema';
import { ClusterAuthGuard } from '@/infra/cluster/cluster-auth.guard';
import { AuthUser } from '@/modules/auth/auth.service';
import { Authenticated, CurrentUser } from '@/modules/auth/current-user.decorator';
import { SimulateService } from './simulate.service';

const startSchema = z.union([
  z.strictObject({ url: httpUrlSchema }),
  z.strictObject({ id: z.string().regex(/^sim-[0-9a-f-]{36}$/) }),
]);
const peerSchema = z.strictObject({
  id: z.string().regex(/^sim-[0-9a-f-]{36}$/),
  url: httpUrlSchema,
  round: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  origin: z.string().max(255).optional(),
});

const SIMULATE_USAGE = 'invalid simulate request: pass ?url= to start or ?id= to poll';

@ApiTags('simulate')
@Controller('simulate')
export class SimulateController {
  constructor(private readonly sims: SimulateService) {}

  @Get()
  @Authenticated()
  @ApiOperation({
    summary:
      'Start a one-off cluster-wide check of ?url= (returns its id), or poll ?id= for the live tally until final',
  })
  async get(@CurrentUser() user: AuthUser, @Query() query: Record<string, unknown>) {
    const q = parseInput(startSchema, query, SIMULATE_USAGE, '(query)');
    return 'url' in q ? this.sims.start(q.url, user.id) : this.sims.get(q.id, user.id);
  }

  // Under /api/simulate/gossip/ so bootstrap keeps the raw body for the cluster HMAC check.
  @Post('gossip/check')
  @HttpCode(202)
  @UseGuards(ClusterAuthGuard)
  @ApiExcludeEndpoint()
  async check(@Body() body: unknown) {
    const b = parseInput(peerSchema, body, SIMULATE_USAGE, '(query)');
    await this.sims.peerCheck(b.id, b.url, b.round, b.origin);
    return { accepted: true };
  }
}
