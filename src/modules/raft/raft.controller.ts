import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { z } from 'zod';
import type { RaftMessage } from '@/core/raft/raft.messages';
import { DomainError } from '@/common/domain-error';
import { parseInput } from '@/common/parse-input';
import { ClusterAuthGuard } from '@/infra/cluster/cluster-auth.guard';
import { KvCommand, KvResult } from './kv.state-machine';
import { RaftHost } from './raft-host';
import { fromWire, wireMessageSchema } from './raft-wire';

/**
 * Node-to-node Raft RPCs. Every route needs the cluster credential (HMAC, fresh,
 * not replayed) and a fully valid message for that route; anything else is
 * refused before the core sees it.
 */

const kvCommandSchema = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('put'),
    key: z.string().min(1).max(256),
    value: z.string().max(65_536),
  }),
  z.strictObject({
    op: z.literal('append'),
    key: z.string().min(1).max(256),
    value: z.string().max(65_536),
  }),
]);
const kvReadSchema = z.strictObject({ key: z.string().min(1).max(256) });

@ApiExcludeController()
@UseGuards(ClusterAuthGuard)
@Controller('raft')
export class RaftController {
  constructor(private readonly host: RaftHost) {}

  @Post('pre-vote')
  @HttpCode(202)
  preVote(@Body() body: unknown): void {
    this.deliver(body, ['PreVote', 'PreVoteResponse']);
  }

  @Post('request-vote')
  @HttpCode(202)
  requestVote(@Body() body: unknown): void {
    this.deliver(body, ['RequestVote', 'RequestVoteResponse']);
  }

  @Post('append-entries')
  @HttpCode(202)
  appendEntries(@Body() body: unknown): void {
    this.deliver(body, [
      'AppendEntries',
      'AppendEntriesResponse',
      'Heartbeat',
      'HeartbeatResponse',
    ]);
  }

  @Post('install-snapshot')
  @HttpCode(202)
  installSnapshot(@Body() body: unknown): void {
    this.deliver(body, ['InstallSnapshot']);
  }

  @Post('timeout-now')
  @HttpCode(202)
  timeoutNow(@Body() body: unknown): void {
    this.deliver(body, ['TimeoutNow']);
  }

  @Post('read-index')
  @HttpCode(202)
  readIndex(@Body() body: unknown): void {
    this.deliver(body, ['ReadIndex', 'ReadIndexResponse']);
  }

  /** Cluster key-value map: write through the log (leader only). */
  @Post('kv')
  @HttpCode(200)
  async kvWrite(@Body() body: unknown): Promise<KvResult> {
    const cmd: KvCommand = parseInput(kvCommandSchema, body, 'invalid raft request');
    return this.host.propose<KvResult>('kv', cmd);
  }

  /** Linearizable read of the key-value map (ReadIndex). */
  @Post('kv/read')
  @HttpCode(200)
  async kvRead(@Body() body: unknown): Promise<{ key: string; value: string | null }> {
    const { key } = parseInput(kvReadSchema, body, 'invalid raft request');
    const value = await this.host.linearizableRead(() => this.host.kv.get(key));
    return { key, value };
  }

  /** This node's applied copy, without a read barrier (tests compare replicas with it). */
  @Post('kv/local')
  @HttpCode(200)
  kvLocal(@Body() body: unknown): { key: string; value: string | null; appliedIndex: number } {
    const { key } = parseInput(kvReadSchema, body, 'invalid raft request');
    return { key, value: this.host.kv.get(key), appliedIndex: this.host.snapshot().appliedIndex };
  }

  @Get('status')
  status() {
    return {
      ...this.host.snapshot(),
      voterIds: this.host.voters,
      transport: this.host.transportStats(),
    };
  }

  private deliver(body: unknown, allowed: RaftMessage['type'][]): void {
    const wire = parseInput(wireMessageSchema, body, 'invalid raft request');
    if (!allowed.includes(wire.type)) {
      throw new DomainError('VALIDATION_FAILED', `${wire.type} does not belong on this route`);
    }
    this.host.receive(fromWire(wire));
  }
}
