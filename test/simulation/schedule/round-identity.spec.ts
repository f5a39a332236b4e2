/**
 * Issue 16, defect 1: a site's round numbers only grow, and its checks never stall,
 * whatever happens to it. Three validators each run their own RoundSchedule and apply
 * one shared log (schedule commands and decisions) into their own SiteStatusMachine,
 * each with its own apply lag; a seeded run edits the interval both ways, pauses and
 * resumes, restarts nodes (schedule rebuilt, machine restored from its snapshot) and
 * moves the leader. Checked on every node: rounds strictly increase, nodes agree on
 * when a round starts, no decision is ever stale, and the gap between two checks of an
 * active site stays within two intervals. A failing seed prints itself.
 */
import type { ConsensusCommand, Decision } from '@/core/consensus/decision';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import { SeededRandom } from '@/core/ports/seeded-random';
import { RoundSchedule, type SchedulableSite } from '@/core/schedule/round-schedule';
import { alignedAnchorAt } from '@/core/schedule/segment';

const SEEDS = Number(process.env.SCHEDULE_SEEDS ?? 200);
const SEED_BASE = Number(process.env.SCHEDULE_SEED_BASE ?? 1);
const ONE = process.env.SCHEDULE_SEED;
const INTERVALS = [10_000, 20_000, 30_000, 60_000, 120_000];
const LEAD_MS = 2_000; // as SiteScheduleReconciler
const STEP_MS = 250;
const RUN_MS = 40 * 60_000;
const T0 = 1_764_000_000_000;
const SITES = ['3f1c6a3e-0000-4000-8000-000000000001', '3f1c6a3e-0000-4000-8000-000000000002'];

interface LogItem {
  at: number;
  cmd: ConsensusCommand;
}

interface Node {
  schedule: RoundSchedule<SchedulableSite>;
  machine: SiteStatusMachine;
  applied: number;
  lag: number;
  lastRound: Map<string, number>;
  lastCheckAt: Map<string, number>;
}

function run(seed: number): void {
  const rnd = new SeededRandom(seed);
  const log: LogItem[] = [];
  const db = new Map(SITES.map((id) => [id, { intervalMs: 10_000, paused: false }]));
  const startOf = new Map<string, number>(); // `${site}:${round}` -> start, across nodes
  const decided = new Set<string>();
  const pendingDecisions: { at: number; d: Decision }[] = [];
  const fail = (msg: string): never => {
    throw new Error(
      `seed ${seed}: ${msg}\n  replay: SCHEDULE_SEED=${seed} npx jest round-identity`,
    );
  };

  const spec = (n: Node, id: string): SchedulableSite => {
    const s = n.machine.schedule(id);
    return s
      ? {
          id,
          intervalMs: s.segment.intervalMs,
          anchor: { round: s.segment.anchorRound, at: s.segment.anchorAt },
        }
      : { id, intervalMs: db.get(id)!.intervalMs };
  };
  const sync = (n: Node, now: number) => {
    for (const id of SITES) {
      if (db.get(id)!.paused) {
        if (n.schedule.remove(id)) n.lastCheckAt.delete(id);
      } else n.schedule.upsert(spec(n, id), now);
    }
  };
  const newNode = (): Node => ({
    schedule: new RoundSchedule(10_000),
    machine: new SiteStatusMachine(),
    applied: 0,
    lag: rnd.int(0, LEAD_MS - 500),
    lastRound: new Map(),
    lastCheckAt: new Map(),
  });
  const nodes = [newNode(), newNode(), newNode()];
  for (const n of nodes) sync(n, T0);
  // Adoption of the legacy grid, as the leader's first reconcile pass does.
  log.push({
    at: T0 + 500,
    cmd: {
      t: 'schedule',
      items: SITES.map((siteId) => ({
        siteId,
        intervalMs: 10_000,
        anchorAt: alignedAnchorAt(siteId, 10_000, T0 + LEAD_MS),
        downAfterRounds: 1,
        upAfterRounds: 1,
      })),
    },
  });
  const maxGap = new Map(SITES.map((id) => [id, 10_000]));

  for (let now = T0; now < T0 + RUN_MS; now += STEP_MS) {
    // Operations, a few per simulated ten minutes.
    if (rnd.chance(STEP_MS / 120_000)) {
      const id = SITES[rnd.int(0, SITES.length)];
      const site = db.get(id)!;
      const op = rnd.int(0, 4);
      if (op <= 1) {
        const intervalMs = INTERVALS[rnd.int(0, INTERVALS.length)];
        maxGap.set(id, Math.max(maxGap.get(id)!, site.intervalMs, intervalMs));
        site.intervalMs = intervalMs;
        // The leader's reconcile pass sees it within RECONCILE_MS.
        const at = now + rnd.int(0, 2_000);
        log.push({
          at,
          cmd: {
            t: 'schedule',
            items: [
              {
                siteId: id,
                intervalMs,
                anchorAt: alignedAnchorAt(id, intervalMs, at + LEAD_MS),
                downAfterRounds: 1,
                upAfterRounds: 1,
              },
            ],
          },
        });
      } else if (op === 2) {
        site.paused = !site.paused;
        for (const n of nodes) sync(n, now);
      } else {
        // Restart one node: a fresh schedule, the machine restored from its snapshot.
        const i = rnd.int(0, nodes.length);
        const old = nodes[i];
        const n = newNode();
        n.machine.restore(old.machine.snapshot());
        n.applied = old.applied;
        n.lastRound = old.lastRound;
        nodes[i] = n;
        sync(n, now);
      }
    }
    // The hub proposes decisions of rounds a little after they start.
    while (pendingDecisions.length > 0 && pendingDecisions[0].at <= now) {
      const { d } = pendingDecisions.shift()!;
      log.push({ at: now, cmd: { t: 'decision', decision: { ...d, decidedAt: now } } });
    }
    log.sort((a, b) => a.at - b.at);
    // Every node applies the same log, in order, with its own lag.
    for (const n of nodes) {
      let changed = false;
      while (n.applied < log.length && log[n.applied].at + n.lag <= now) {
        const cmd = log[n.applied++].cmd;
        if (cmd.t === 'schedule') {
          const r = n.machine.applySchedule(cmd.items);
          if (r.kind === 'schedule' && r.changed.length > 0) changed = true;
        } else if (cmd.t === 'decision') {
          const r = n.machine.applyDecision(cmd.decision);
          if (r.kind !== 'decision')
            fail(`decision ${cmd.decision.siteId}#${cmd.decision.round} ${r.kind}`);
        }
      }
      if (changed) sync(n, now);
    }
    // Checks.
    for (const [k, n] of nodes.entries()) {
      for (const due of n.schedule.takeDue(now).due) {
        const id = due.site.id;
        const prev = n.lastRound.get(id);
        if (prev !== undefined && due.round <= prev)
          fail(`node ${k} ran round ${due.round} of ${id} after ${prev}`);
        n.lastRound.set(id, due.round);
        const key = `${id}:${due.round}`;
        const start = startOf.get(key);
        if (start === undefined) startOf.set(key, due.dueAt);
        else if (start !== due.dueAt)
          fail(`round ${key} starts at ${due.dueAt} on node ${k}, ${start} elsewhere`);
        const last = n.lastCheckAt.get(id);
        const bound = 2 * maxGap.get(id)!;
        if (last !== undefined && due.dueAt - last > bound)
          fail(`node ${k}: ${due.dueAt - last} ms between checks of ${id} (bound ${bound})`);
        n.lastCheckAt.set(id, due.dueAt);
        if (!decided.has(key)) {
          decided.add(key);
          pendingDecisions.push({
            at: due.dueAt + 1_000,
            d: {
              siteId: id,
              round: due.round,
              verdict: 'UP',
              regionVerdicts: {},
              tally: { up: 3, down: 0, total: 3, quorum: 2, byRegion: {} },
              voters: ['v1', 'v2', 'v3'],
              decidedAt: 0,
            },
          });
          pendingDecisions.sort((a, b) => a.at - b.at);
        }
      }
    }
    // Once every node applied an edit, the gap bound falls back to the current interval.
    for (const id of SITES)
      if (nodes.every((n) => n.machine.schedule(id)?.segment.intervalMs === db.get(id)!.intervalMs))
        if (nodes.every((n) => (n.lastCheckAt.get(id) ?? 0) > now - db.get(id)!.intervalMs))
          maxGap.set(id, db.get(id)!.intervalMs);
  }
  // Every replica ends in the same state.
  const images = nodes.map((n) => Buffer.from(n.machine.snapshot()).toString('base64'));
  if (images.some((x) => x !== images[0])) {
    // Nodes may trail by their lag: apply the rest and compare again.
    for (const n of nodes)
      while (n.applied < log.length) {
        const cmd = log[n.applied++].cmd;
        if (cmd.t === 'schedule') n.machine.applySchedule(cmd.items);
        else if (cmd.t === 'decision') n.machine.applyDecision(cmd.decision);
      }
    const again = nodes.map((n) => Buffer.from(n.machine.snapshot()).toString('base64'));
    if (again.some((x) => x !== again[0])) fail('replicas differ');
  }
  if (decided.size < 5) fail(`only ${decided.size} rounds checked`);
}

describe('round identity across edits, pauses, restarts (seeded)', () => {
  const seeds = ONE ? [Number(ONE)] : Array.from({ length: SEEDS }, (_, i) => SEED_BASE + i);
  it(`${seeds.length} seeds: rounds only grow, nodes agree, nothing stale, no stall`, () => {
    for (const seed of seeds) run(seed);
  });
});
