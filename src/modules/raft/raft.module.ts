import { Global, Injectable, Module } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { ClusterStatus, ClusterStatusSnapshot } from './cluster-status';

/**
 * Placeholder until the Raft host lands (issue 5): a cluster of one, which is
 * the embedded default, is its own leader in term 1.
 */
@Injectable()
class SingleNodeClusterStatus extends ClusterStatus {
  constructor(private readonly config: AppConfig) {
    super();
  }
  snapshot(): ClusterStatusSnapshot {
    const alone = this.config.node.peers.length === 0;
    return {
      nodeId: this.config.node.id,
      role: alone ? 'leader' : 'follower',
      term: alone ? 1 : 0,
      leaderId: alone ? this.config.node.id : null,
      commitIndex: 0,
      appliedIndex: 0,
      voters: this.config.node.peers.length + 1,
    };
  }
}

@Global()
@Module({
  providers: [{ provide: ClusterStatus, useClass: SingleNodeClusterStatus }],
  exports: [ClusterStatus],
})
export class RaftModule {}
