/**
 * Gossip: this validator's Ed25519 identity, the validators registry, vote
 * signing (SigningResultSink) and verification, peer push, and the node-to-node
 * endpoints POST /api/simulate/gossip and /api/simulate/gossip/join. Needs
 * AppConfig, PrismaService and ClusterModule (global); hands verified votes to
 * the consensus module's VoteInbox and, as ping results, to the realtime module.
 */
import { Logger, Module } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { ConsensusModule } from '@/modules/consensus/consensus.module';
import { RealtimeModule } from '@/modules/realtime/realtime.module';
import { GossipController } from './gossip.controller';
import { GossipMetrics } from './gossip.metrics';
import { GossipService } from './gossip.service';
import { RegistryVoteVerifier } from './registry-vote-verifier';
import { SigningResultSink } from './signing-result.sink';
import { ValidatorDirectory } from './validator-directory';
import { ValidatorIdentity } from './validator-identity';
import { ValidatorRepository } from './validator.repository';

@Module({
  imports: [ConsensusModule, RealtimeModule],
  controllers: [GossipController],
  providers: [
    {
      provide: ValidatorIdentity,
      useFactory: (c: AppConfig) => {
        const log = new Logger('ValidatorIdentity');
        const identity = ValidatorIdentity.loadOrCreate(
          c.dataDir,
          { id: c.node.id, region: c.node.region, address: c.node.advertiseAddress },
          (m) => log.warn(m),
        );
        if (identity.created) log.log(`created the Ed25519 key of validator ${identity.id}`);
        return identity;
      },
      inject: [AppConfig],
    },
    ValidatorRepository,
    {
      provide: RegistryVoteVerifier,
      useFactory: (repo: ValidatorRepository) => new RegistryVoteVerifier(repo),
      inject: [ValidatorRepository],
    },
    { provide: GossipMetrics, useFactory: () => new GossipMetrics() },
    GossipService,
    ValidatorDirectory,
    SigningResultSink,
  ],
  exports: [GossipService, SigningResultSink, ValidatorIdentity, GossipMetrics, ValidatorDirectory],
})
export class GossipModule {}
