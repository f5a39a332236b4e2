/**
 * Issue 12: "after a restart, entries applied before the crash are broadcast again as live
 * events". The Raft host flags as replay only the entries up to the commit index it had
 * persisted, and it persists the commit only with term and vote, so after a restart it
 * re-applies already-broadcast entries as if live. The pipeline's BroadcastMark (a file in
 * the data directory) keeps each entry's live events to one broadcast per node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCommand, type Decision } from '@/core/consensus/decision';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import type { LogEntry } from '@/core/raft/raft.types';
import type { AppConfig } from '@/config/app-config';
import { DecisionPipeline } from '@/modules/projection/decision-pipeline';
import type { CommitListener, RaftHost } from '@/modules/raft/raft-host';
import { encodeCommand as wrap } from '@/modules/raft/replicated-state';
import type { RealtimePublisher } from '@/modules/realtime/realtime.publisher';

const SITE = '3f1c6a3e-0000-4000-8000-000000000001';

function entry(index: number): LogEntry {
  const d: Decision = {
    siteId: SITE,
    url: 'http://example.com/',
    round: index,
    verdict: 'UP',
    regionVerdicts: {},
    tally: { up: 2, down: 0, total: 2, quorum: 2, byRegion: {} },
    voters: ['v1', 'v2'],
    decidedAt: 1_700_000_000_000 + index,
  };
  const command = encodeCommand({ t: 'batch', decisions: [d] });
  return { index, term: 1, type: 'command', data: wrap('decisions', JSON.parse(command)) };
}

/** One life of a node: a pipeline over a Raft host that reports applies with its replay flag. */
function boot(dataDir: string) {
  const emitted: number[] = [];
  let listener: CommitListener = () => undefined;
  const raft = {
    register: () => undefined,
    onCommit: (l: CommitListener) => (listener = l),
    onLeadershipChange: () => undefined,
    setCompactionFloor: () => undefined,
    isLeader: () => false,
  } as unknown as RaftHost;
  const machine = new SiteStatusMachine();
  const tally = { onDecision: () => () => undefined } as never;
  const sites = {
    getMany: () => Promise.resolve(new Map([[SITE, { ownerId: 'owner', url: 'http://x/' }]])),
  } as never;
  const projector = { start: () => undefined, kick: () => undefined } as never;
  const moduleRef = { get: () => null } as never;
  const realtime = {
    hasListeners: () => true,
    to: (_target: unknown, event: string, data: { logIndex?: number }) => {
      if (event === 'consensus') emitted.push(data.logIndex!);
    },
  } as unknown as RealtimePublisher;
  const pipeline = new DecisionPipeline(
    raft,
    machine,
    tally,
    {} as never,
    sites,
    projector,
    moduleRef,
    { dataDir } as AppConfig,
    realtime,
  );
  pipeline.onModuleInit();
  const apply = (index: number, replay: boolean) => {
    const e = entry(index);
    const result = machine.apply({ ...e, data: JSON.stringify(JSON.parse(e.data as string).c) });
    listener(e, result, replay);
  };
  return { apply, emitted };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('live events after a restart', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'broadcast-mark-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('entries applied before the crash are not broadcast again', async () => {
    const first = boot(dir);
    for (let i = 1; i <= 5; i++) first.apply(i, false);
    await settle();
    expect(first.emitted).toEqual([1, 2, 3, 4, 5]);

    // Restart: the persisted commit index was 2, so the host replays 1..2 as replays and
    // 3..5 as if they were new, then commits 6.
    const second = boot(dir);
    for (let i = 1; i <= 2; i++) second.apply(i, true);
    for (let i = 3; i <= 6; i++) second.apply(i, false);
    await settle();
    expect(second.emitted).toEqual([6]);
  });
});
