import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { z } from 'zod';
import { parseInput } from '@/common/parse-input';
import { ClusterAuthGuard } from '@/infra/cluster/cluster-auth.guard';
import { MAX_SITES_PER_ENTRY } from './beat-ledger';
import { PushService } from './push.service';

const forwardSchema = z.strictObject({
  sites: z.array(z.uuid()).min(1).max(MAX_SITES_PER_ENTRY),
});

/**
 * A follower's coalesced beats, sent to the leader (signed with the sending node's own
 * key); answered once they are committed, with the time the entry carries.
 */
@ApiExcludeController()
@UseGuards(ClusterAuthGuard)
@Controller('cluster/push')
export class PushForwardController {
  constructor(private readonly push: PushService) {}

  @Post('beats')
  @HttpCode(200)
  beats(@Body() body: unknown) {
    const { sites } = parseInput(forwardSchema, body, 'invalid beat batch');
    return this.push.commitForwarded(sites);
  }
}
