import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

const role = z.enum(['leader', 'follower', 'candidate', 'pre-candidate']);
const counter = z.number().int();

export const clusterOverviewSchema = z.object({
  generatedAt: z.iso.datetime(),
  node: z
    .object({
      validatorId: z.string(),
      region: z.string(),
      raft: z.object({
        role,
        term: counter,
        leader: z.string().nullable().describe('validator id of the leader this node knows'),
        commitIndex: counter,
        appliedIndex: counter,
        voters: counter,
      }),
    })
    .describe('the node that answered'),
  validators: z.array(
    z.object({
      id: z.string(),
      region: z.string(),
      lastSeenAt: z.iso.datetime(),
      live: z.boolean().describe('heard from within the liveness window; counted in tallies'),
      self: z.boolean(),
      raftRole: role
        .nullable()
        .describe('known for the answering node and the leader; null: not known here'),
    }),
  ),
  regions: z.array(z.object({ region: z.string(), validators: counter, live: counter })),
  gossip: z.object({
    published: counter,
    accepted: counter,
    forwarded: counter,
    rejected: z.record(z.string(), counter),
    sentMessages: counter,
    sendFailures: counter,
    dropped: z.record(z.string(), counter),
    queued: counter,
  }),
  tally: z.object({
    open: counter,
    counted: counter,
    duplicate: counter,
    conflicting: counter,
    finalized: counter,
    finalizedComplete: counter,
    finalizedDeadline: counter,
    evictedRounds: counter,
  }),
});
export class ClusterOverviewDto extends createZodDto(clusterOverviewSchema) {}
export type ClusterOverview = z.infer<typeof clusterOverviewSchema>;
