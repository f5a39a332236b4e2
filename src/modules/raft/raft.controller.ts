import { Body, Controller, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { RaftMessage } from '@/core/raft/raft.messages';
import { DomainError } from '@/common/domain-error';
import { parseInput } from '@/common/parse-input';
import {
  ClusterAuthGuard,
  ClusterMembershipOnly,
  type ClusterRequest,
} from '@/infra/cluster/cluster-auth.guard';
import { RaftHost } from './raft-host';
import { kvReadSchema } from './raft-http.handler';
import { fromWire, wireMessageSchema } from './raft-wire';

/**
 * Node-to-node Raft RPCs. Every route needs the cluster credential (HMAC, fresh,
 * not replayed) and a fully valid message for that route; anything else is
 * refused before the core sees it. The hot routes (the transport's frames and
 * the kv map's writes and reads) are served ahead of Express: raft-http.handler.ts.
 */

@ApiExcludeController()
@UseGuards(ClusterAuthGuard)
@Controller('raft')
export class RaftController {
  constructor(private readonly host: RaftHost) {}

  @Post('pre-vote')
  @HttpCode(202)
  preVote(@Body() body: unknown, @Req() req: ClusterRequest): void {
    this.deliver(body, ['PreVote', 'PreVoteResponse'], req);
  }

  @Post('request-vote')
  @HttpCode(202)
  requestVote(@Body() body: unknown, @Req() req: ClusterRequest): void {
    this.deliver(body, ['RequestVote', 'RequestVoteResponse'], req);
  }

  @Post('append-entries')
  @HttpCode(202)
  appendEntries(@Body() body: unknown, @Req() req: ClusterRequest): void {
    this.deliver(
      body,
      ['AppendEntries', 'AppendEntriesResponse', 'Heartbeat', 'HeartbeatResponse'],
      req,
    );
  }

  @Post('install-snapshot')
  @HttpCode(202)
  installSnapshot(@Body() body: unknown, @Req() req: ClusterRequest): void {
    this.deliver(body, ['InstallSnapshot'], req);
  }

  @Post('timeout-now')
  @HttpCode(202)
  timeoutNow(@Body() body: unknown, @Req() req: ClusterRequest): void {
    this.deliver(body, ['TimeoutNow'], req);
  }

  @Post('read-index')
  @HttpCode(202)
  readIndex(@Body() body: unknown, @Req() req: ClusterRequest): void {
    this.deliver(body, ['ReadIndex', 'ReadIndexResponse'], req);
  }

  /** This node's applied copy, without a read barrier (tests compare replicas with it). */
  @Post('kv/local')
  @ClusterMembershipOnly()
  @HttpCode(200)
  kvLocal(@Body() body: unknown): { key: string; value: string | null; appliedIndex: number } {
    const { key } = parseInput(kvReadSchema, body, 'invalid raft request');
    return { key, value: this.host.kv.get(key), appliedIndex: this.host.snapshot().appliedIndex };
  }

  @Get('status')
  @ClusterMembershipOnly()
  status() {
    return {
      ...this.host.snapshot(),
      voterIds: this.host.voters,
      transport: this.host.transportStats(),
    };
  }

  private deliver(body: unknown, allowed: RaftMessage['type'][], req: ClusterRequest): void {
    const wire = parseInput(wireMessageSchema, body, 'invalid raft request');
    if (!allowed.includes(wire.type)) {
      throw new DomainError('VALIDATION_FAILED', `${wire.type} does not belong on this route`);
    }
    // A node speaks only for itself: the message's sender is the node that signed it.
    this.host.receiveBatch([fromWire(wire)], req.cluster?.address);
  }
}
