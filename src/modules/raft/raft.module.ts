import { Global, Module } from '@nestjs/common';
import { ClusterStatus } from './cluster-status';
import { RaftController } from './raft.controller';
import { RaftHost } from './raft-host';

/**
 * The replicated log of this node: RaftHost (core + disk + HTTP transport),
 * its RPC endpoints, and ClusterStatus for health checks and heartbeats.
 */
@Global()
@Module({
  controllers: [RaftController],
  providers: [RaftHost, { provide: ClusterStatus, useExisting: RaftHost }],
  exports: [RaftHost, ClusterStatus],
})
export class RaftModule {}
