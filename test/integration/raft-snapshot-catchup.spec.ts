/**
 * Issue 12.4: a follower 30,000 sites behind catches up through a chunked
 * snapshot. Three real RaftHost instances with disk storage talk signed
 * binary frames over HTTP on 127.0.0.1. Two of them commit the schedule and a
 * status for 30,000 sites and compact their logs; the third then starts with
 * an empty disk. The entries it lacks are gone, so only InstallSnapshot can
 * bring it up: its replicated state must equal the leader's byte for byte,
 * and the snapshot must have come in more than one chunk (one chunk is at most
 * 1 MiB, and no request carries the whole snapshot).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { encodeCommand, type Decision, type ScheduleItem } from '@/core/consensus/decision';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import { waitFor } from '../support/wait';
import { HostNode, planHosts, type HostSpec } from './raft-support/host-cluster';

jest.setTimeout(120_000);

const SITES = 30_000;
const SCHEDULE_PER_ENTRY = 1_000;
const DECISIONS_PER_ENTRY = 500;
const SNAPSHOT_EVERY = 50;
const MACHINE = 'decisions';

const siteId = (i: number) => `site-${String(i).padStart(6, '0')}`;

function scheduleEntries(): unknown[] {
  const out: unknown[] = [];
  for (let lo = 0; lo < SITES; lo += SCHEDULE_PER_ENTRY) {
    const items: ScheduleItem[] = [];
    for (let i = lo; i < Math.min(SITES, lo + SCHEDULE_PER_ENTRY); i++)
      items.push({
        siteId: siteId(i),
        intervalMs: 20_000 + (i % 7) * 1_000,
        anchorAt: 1_700_000_000_000 + i,
        downAfterRounds: 1 + (i % 3),
        upAfterRounds: 1,
      });
    out.push(JSON.parse(encodeCommand({ t: 'schedule', items })));
  }
  return out;
}

function decisionEntries(): unknown[] {
  const out: unknown[] = [];
  for (let lo = 0; lo < SITES; lo += DECISIONS_PER_ENTRY) {
    const decisions: Decision[] = [];
    for (let i = lo; i < Math.min(SITES, lo + DECISIONS_PER_ENTRY); i++) {
      const down = i % 10 === 0;
      decisions.push({
        siteId: siteId(i),
        url: `https://example-${i}.test/`,
        round: 5 + (i % 11),
        verdict: down ? 'DOWN' : 'UP',
        regionVerdicts: { eu: down ? 'DOWN' : 'UP', us: 'UP' },
        tally: {
          up: down ? 0 : 3,
          down: down ? 3 : 0,
          total: 3,
          quorum: 2,
          byRegion: {
            eu: { up: down ? 0 : 2, down: down ? 2 : 0, total: 2 },
            us: { up: 1, down: 0, total: 1 },
          },
        },
        voters: ['h1', 'h2', 'h3'],
        decidedAt: 1_700_000_100_000 + i,
      });
    }
    out.push(JSON.parse(encodeCommand({ t: 'batch', decisions })));
  }
  return out;
}

/** Index of the newest snapshot file in a node's raft directory (0 if none). */
function snapshotIndexOnDisk(spec: HostSpec): number {
  const names = readdirSync(join(spec.dir, 'raft')).filter((n) =>
    /^snapshot-\d+-\d+\.snap$/.test(n),
  );
  return Math.max(0, ...names.map((n) => Number(n.split('-')[1])));
}

describe('a follower far behind catches up through a chunked snapshot', () => {
  let root: string;
  let specs: HostSpec[];
  const nodes: HostNode[] = [];
  const machines = new Map<string, SiteStatusMachine>();

  const start = async (spec: HostSpec) => {
    const sm = new SiteStatusMachine();
    machines.set(spec.nodeId, sm);
    const node = await HostNode.start(spec, specs, {
      snapshotEvery: SNAPSHOT_EVERY,
      machines: { [MACHINE]: sm },
    });
    nodes.push(node);
    return node;
  };

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    root = mkdtempSync(join(tmpdir(), 'raft-catchup-'));
    specs = await planHosts(3, (i) => join(root, `h${i + 1}`));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('installs 30,000 sites of schedule and status in more than one chunk and matches the leader', async () => {
    const [a, b] = await Promise.all([start(specs[0]), start(specs[1])]);
    await waitFor('a leader of two', 15_000, async () => a.host.isLeader() || b.host.isLeader());
    const leader = a.host.isLeader() ? a : b;

    const commands = [...scheduleEntries(), ...decisionEntries()];
    // Ten at a time, each retried until committed: a loaded machine may time a proposal out
    // or move leadership between a and b (re-applying one is harmless here: every node
    // applies the same log), so each attempt goes to whichever leads now.
    const commit = async (c: unknown) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await (a.host.isLeader() ? a : b).host.propose(MACHINE, c);
        } catch (e) {
          const retriable = /not committed in time|not the leader/.test((e as Error).message);
          if (attempt >= 5 || !retriable) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    for (let i = 0; i < commands.length; i += 10)
      await Promise.all(commands.slice(i, i + 10).map(commit));
    const siteIndex = Math.max(a.host.snapshot().commitIndex, b.host.snapshot().commitIndex);
    // kv writes until BOTH logs are compacted past every site command: on a loaded machine
    // leadership may move between a and b, and whichever leads must hold no site entry.
    const compacted = () =>
      Math.min(snapshotIndexOnDisk(a.spec), snapshotIndexOnDisk(b.spec)) >= siteIndex;
    for (let k = 0; !compacted(); k++) {
      expect(k).toBeLessThan(4 * SNAPSHOT_EVERY);
      const lead = a.host.isLeader() ? a : b;
      await lead.host.propose('kv', { op: 'put', key: 'k', value: String(k) }).catch(() => {});
    }
    const leaderState = machines.get(leader.spec.nodeId)!.snapshot();
    console.log(
      `${commands.length} site entries up to index ${siteIndex}; snapshots at ` +
        `${snapshotIndexOnDisk(a.spec)} / ${snapshotIndexOnDisk(b.spec)}; leader ` +
        `${leader.spec.nodeId}, now ${(a.host.isLeader() ? a : b).spec.nodeId}; ` +
        `site state ${leaderState.byteLength} bytes`,
    );

    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const c = await start(specs[2]);
    const target = leader.host.snapshot().commitIndex;
    await waitFor(
      'the new follower applies',
      60_000,
      async () => c.host.snapshot().appliedIndex >= target,
    );
    const ms = performance.now() - t0;
    const rss1 = process.memoryUsage().rss;
    console.log(
      `caught up to ${target} in ${ms.toFixed(0)} ms: ${c.received.chunks} InstallSnapshot chunks, ` +
        `${c.received.bytes} bytes; RSS ${(rss0 / 2 ** 20).toFixed(0)} -> ` +
        `${(rss1 / 2 ** 20).toFixed(0)} MiB (three nodes in this process)`,
    );

    expect(c.received.chunks).toBeGreaterThan(1);
    expect(c.received.bytes).toBeGreaterThanOrEqual(leaderState.byteLength);
    expect(snapshotIndexOnDisk(c.spec)).toBeGreaterThanOrEqual(siteIndex);
    const followerState = machines.get(c.spec.nodeId)!.snapshot();
    expect(followerState.byteLength).toBe(leaderState.byteLength);
    expect(Buffer.from(followerState).equals(Buffer.from(leaderState))).toBe(true);
    expect(machines.get(c.spec.nodeId)!.get(siteId(SITES - 1))?.verdict).toBe('UP');
    expect(c.host.kv.get('k')).toBe(leader.host.kv.get('k'));
  });
});
