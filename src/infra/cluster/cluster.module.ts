import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { ClusterAuth } from './cluster-auth';
import { ClusterAuthGuard } from './cluster-auth.guard';
import { ClusterClient } from './cluster-client';
import { ClusterStreams } from './cluster-stream';

/** Signing, verifying and sending node-to-node requests and streams (Raft, gossip). */
@Global()
@Module({
  providers: [
    {
      provide: ClusterAuth,
      useFactory: (c: AppConfig) => new ClusterAuth(c.security.clusterSecret!, c.node.id),
      inject: [AppConfig],
    },
    ClusterAuthGuard,
    {
      provide: ClusterClient,
      useFactory: (auth: ClusterAuth, c: AppConfig) =>
        new ClusterClient(auth, { timeoutMs: Math.max(200, c.raft.electionTimeoutMs) }),
      inject: [ClusterAuth, AppConfig],
    },
    {
      provide: ClusterStreams,
      useFactory: (auth: ClusterAuth) => new ClusterStreams(auth),
      inject: [ClusterAuth],
    },
  ],
  exports: [ClusterAuth, ClusterAuthGuard, ClusterClient, ClusterStreams],
})
export class ClusterModule implements OnApplicationShutdown {
  constructor(@Inject(ClusterClient) private readonly client: ClusterClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
