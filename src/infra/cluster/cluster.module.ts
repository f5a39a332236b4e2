import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { ClusterAuth } from './cluster-auth';
import { ClusterAuthGuard } from './cluster-auth.guard';
import { ClusterClient } from './cluster-client';

/** Signing, verifying and sending node-to-node requests (Raft, gossip). */
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
  ],
  exports: [ClusterAuth, ClusterAuthGuard, ClusterClient],
})
export class ClusterModule implements OnApplicationShutdown {
  constructor(@Inject(ClusterClient) private readonly client: ClusterClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
