/**
 * Issue 10, "one Raft entry per tick": the hub's decisions of one tick leave as one
 * size-capped DecisionBatch entry; the codec round-trips batches; the state machine
 * applies a batch as its decisions in order (same transitions as one by one).
 */
import {
  decodeCommand,
  encodeCommand,
  MAX_BATCH_DECISIONS,
  type Decision,
} from '@/core/consensus/decision';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import type { AppConfig } from '@/config/app-config';
import { TallyService } from '@/modules/consensus/tally.service';
import { DecisionPipeline } from '@/modules/projection/decision-pipeline';
import type { RaftHost } from '@/modules/raft/raft-host';
import { FakeClock } from '../../fakes/fake-clock';

const site = (i: number) => `3f1c6a3e-0000-4000-8000-${String(i).padStart(12, '0')}`;

function decision(i: number, round: number, verdict: Decision['verdict']): Decision {
  const up = verdict === 'UP' ? 3 : 0;
  return {
    siteId: site(i),
    round,
    verdict,
    regionVerdicts: { eu: verdict },
    tally: {
      up,
      down: 3 - up,
      total: 3,
      quorum: 2,
      byRegion: { eu: { up, down: 3 - up, total: 3 } },
    },
    voters: ['v1', 'v2', 'v3'],
    decidedAt: 1_000 + round,
  };
}

describe('DecisionBatch codec and state machine', () => {
  it('round-trips, and refuses a batch above the cap', () => {
    const cmd = { t: 'batch' as const, decisions: [decision(1, 5, 'UP'), decision(2, 5, 'DOWN')] };
    expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
    const big = {
      t: 'batch' as const,
      decisions: Array.from({ length: MAX_BATCH_DECISIONS + 1 }, (_, i) => decision(i, 1, 'UP')),
    };
    expect(() => decodeCommand(encodeCommand(big))).toThrow(/at most 500/);
  });

  it('applies a batch exactly like its decisions one by one', () => {
    const one = new SiteStatusMachine();
    const many = new SiteStatusMachine();
    const rounds: Decision[][] = [
      [decision(1, 1, 'UP'), decision(2, 1, 'UP')],
      [decision(1, 2, 'DOWN'), decision(2, 2, 'UP'), decision(1, 2, 'DOWN')],
      [decision(1, 3, 'UP'), decision(2, 1, 'DOWN')],
    ];
    const kinds: string[] = [];
    rounds.forEach((decisions, i) => {
      for (const d of decisions) one.applyDecision(d);
      const r = many.apply({
        index: i + 1,
        term: 1,
        type: 'command',
        data: encodeCommand({ t: 'batch', decisions }),
      });
      if (r.kind !== 'batch') throw new Error(r.kind);
      for (const x of r.results)
        kinds.push(
          x.kind === 'decision' ? x.transitions.map((t) => t.kind).join('+') || '-' : x.reason,
        );
    });
    expect(many.snapshot()).toEqual(one.snapshot());
    expect(kinds).toEqual(['-', '-', 'DOWN', '-', 'stale', 'RECOVERED', 'stale']);
  });
});

describe('DecisionPipeline: one proposal per tick', () => {
  it('proposes everything one tick finalizes as one entry, split at the cap', async () => {
    const config = {
      consensus: { quorumThreshold: 0.51, minVotes: 2, tallyDeadlineMs: 2_000 },
      ping: { timeoutMs: 10_000 },
    } as unknown as AppConfig;
    const machine = new SiteStatusMachine();
    const clock = new FakeClock(1_764_000_000_000);
    const tally = new TallyService(config, machine, clock);
    const proposals: { t: string; decisions: Decision[] }[] = [];
    const raft = {
      register: () => undefined,
      onCommit: () => undefined,
      onLeadershipChange: () => undefined,
      setCompactionFloor: () => undefined,
      isLeader: () => true,
      proposeJson: (_m: string, json: string) => {
        proposals.push(JSON.parse(json) as { t: string; decisions: Decision[] });
        return Promise.resolve({});
      },
    } as unknown as RaftHost;
    const stub = {} as never;
    const sites = { getMany: () => Promise.resolve(new Map()) } as never;
    const projector = { start: () => undefined } as never;
    const moduleRef = { get: () => null } as never;
    const noDir = { dataDir: '/nonexistent' } as AppConfig;
    const pipeline = new DecisionPipeline(
      raft,
      machine,
      tally,
      stub,
      sites,
      projector,
      moduleRef,
      noDir,
    );
    pipeline.onModuleInit();
    tally.setRoster([
      { id: 'v1', region: 'eu' },
      { id: 'v2', region: 'us' },
    ]);
    const vote = (i: number, v: string) => ({
      siteId: site(i),
      round: 7,
      validatorId: v,
      region: v === 'v1' ? 'eu' : 'us',
      up: true,
    });
    // 700 rounds complete within one gossip ingest: two entries (500 + 200), not 700.
    for (let i = 0; i < 700; i++) {
      tally.submit(vote(i, 'v1') as never);
      tally.submit(vote(i, 'v2') as never);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(proposals.map((p) => [p.t, p.decisions.length])).toEqual([
      ['batch', 500],
      ['batch', 200],
    ]);
    expect(pipeline.stats).toMatchObject({ proposed: 700, batches: 2 });
    // The rounds that reach their deadline in one tick: one entry.
    for (let i = 0; i < 40; i++) tally.submit({ ...vote(i, 'v1'), round: 8 } as never);
    clock.advance(13_000);
    tally.finalizeDue();
    await new Promise((r) => setTimeout(r, 300));
    expect(proposals.slice(2).map((p) => p.decisions.length)).toEqual([40]);
    pipeline.onModuleDestroy();
    tally.onModuleDestroy();
  });
});
