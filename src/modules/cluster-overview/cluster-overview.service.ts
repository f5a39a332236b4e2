/**
 * What a signed-in user may see of the cluster: validators with their regions, liveness and
 * last heartbeat, the Raft role and term as this node knows them, and gossip and tally
 * counters. No keys, no addresses (Raft ids are addresses: they are mapped to validator ids).
 */
import { Injectable } from '@nestjs/common';
import { TallyService } from '@/modules/consensus/tally.service';
import { GossipMetrics } from '@/modules/gossip/gossip.metrics';
import { ValidatorDirectory } from '@/modules/gossip/validator-directory';
import { ValidatorIdentity } from '@/modules/gossip/validator-identity';
import { ClusterStatus } from '@/modules/raft/cluster-status';
import { ClusterOverview } from './cluster-overview.dto';
import { ValidatorListRepository } from './validator-list.repository';

@Injectable()
export class ClusterOverviewService {
  constructor(
    private readonly raft: ClusterStatus,
    private readonly identity: ValidatorIdentity,
    private readonly directory: ValidatorDirectory,
    private readonly gossip: GossipMetrics,
    private readonly tally: TallyService,
    private readonly validators: ValidatorListRepository,
  ) {}

  async overview(now = Date.now()): Promise<ClusterOverview> {
    const raft = this.raft.snapshot();
    const rows = await this.validators.list();
    const live = new Set(this.directory.roster(now).map((v) => v.id));
    const self = this.identity.id;
    if (!rows.some((r) => r.id === self))
      rows.push({
        id: self,
        region: this.identity.region,
        address: this.identity.address,
        lastSeenAt: new Date(now),
      });
    const leaderId =
      raft.leaderId === null
        ? null
        : raft.leaderId === raft.nodeId
          ? self
          : (rows.find((r) => r.address === raft.leaderId)?.id ?? null);
    const validators = rows.map((r) => ({
      id: r.id,
      region: r.region,
      lastSeenAt: r.lastSeenAt.toISOString(),
      live: live.has(r.id),
      self: r.id === self,
      raftRole: r.id === self ? raft.role : r.id === leaderId ? ('leader' as const) : null,
    }));
    const regions = new Map<string, { validators: number; live: number }>();
    for (const v of validators) {
      const g = regions.get(v.region) ?? { validators: 0, live: 0 };
      g.validators++;
      if (v.live) g.live++;
      regions.set(v.region, g);
    }
    const g = this.gossip.snapshot();
    return {
      generatedAt: new Date(now).toISOString(),
      node: {
        validatorId: self,
        region: this.identity.region,
        raft: {
          role: raft.role,
          term: raft.term,
          leader: leaderId,
          commitIndex: raft.commitIndex,
          appliedIndex: raft.appliedIndex,
          voters: raft.voters,
        },
      },
      validators,
      regions: [...regions.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([region, c]) => ({ region, ...c })),
      gossip: {
        published: g.published,
        accepted: g.accepted,
        forwarded: g.forwarded,
        rejected: { ...g.rejected },
        sentMessages: g.sentMessages,
        sendFailures: g.sendFailures,
        dropped: { ...g.dropped },
        queued: g.pending + g.queued,
      },
      tally: this.tally.stats(),
    };
  }
}
