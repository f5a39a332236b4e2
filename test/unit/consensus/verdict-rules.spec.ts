/**
 * Issue 16, defects 2 and 3 and confirmation, on the pure core:
 *  - the tally deadline counts from the round's start and covers the site's timeout plus
 *    the gossip allowance, so one fast DOWN cannot decide before slow UP answers arrive;
 *  - forget-site drops a deleted site from the state and from snapshots, and a late
 *    decision for it is ignored and counted;
 *  - down/upAfterRounds confirm a verdict over consecutive rounds.
 */
import { encodeCommand, type Decision, type ScheduleItem } from '@/core/consensus/decision';
import { RoundTally } from '@/core/consensus/round-tally';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import type { LogEntry } from '@/core/raft/raft.types';
import { SeededRandom } from '@/core/ports/seeded-random';
import { alignedAnchorAt, segmentRoundStart } from '@/core/schedule/segment';
import { FakeClock } from '../../fakes/fake-clock';

const SITE = '3f1c6a3e-0000-4000-8000-0000000000aa';
const roster = [
  { id: 'v1', region: 'eu' },
  { id: 'v2', region: 'us' },
  { id: 'v3', region: 'ap' },
];

describe('tally deadline from the round start (seeded)', () => {
  const SEEDS = Number(process.env.TALLY_SEEDS ?? 200);

  function runSeed(seed: number) {
    const rnd = new SeededRandom(seed);
    const start = 1_764_000_000_000 + rnd.int(0, 1_000_000);
    const clock = new FakeClock(start);
    const tally = new RoundTally(clock, {
      quorumThreshold: 0.51,
      minVotes: 2,
      deadlineMs: 2_000, // gossip allowance
      fallbackTimeoutMs: 10_000,
      maxOpenRounds: 100,
      maxTrackedSites: 100,
      timingOf: () => ({ startsAt: start, timeoutMs: 10_000 }),
    });
    tally.setRoster(roster);
    // One validator fails fast at t=0 (refused in its region); the other two see a slow
    // site answer after 6 s (plus a seeded gossip delay of up to 1 s).
    const [fast, ...slow] = [...roster].sort(() => rnd.next() - 0.5);
    const decisions: Decision[] = [];
    const add = (v: (typeof roster)[number], up: boolean) => {
      const r = tally.add({ siteId: SITE, round: 42, validatorId: v.id, region: v.region, up });
      if (r.decision) decisions.push(r.decision);
    };
    add(fast, false);
    for (const v of slow) {
      const at = start + 6_000 + rnd.int(0, 1_000);
      while (clock.now() < at) {
        clock.advance(Math.min(250, at - clock.now()));
        decisions.push(...tally.tick());
      }
      add(v, true);
    }
    decisions.push(...tally.tick());
    return decisions;
  }

  it(`DOWN at t=0 and two UP at t≈6 s with timeoutMs 10000 decide UP (${SEEDS} seeds)`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const decisions = runSeed(seed);
      const summary = decisions.map((d) => `${d.verdict}(${d.tally.up}/${d.tally.total})`);
      if (decisions.length !== 1 || decisions[0].verdict !== 'UP')
        throw new Error(
          `seed ${seed}: decided ${summary.join(', ') || 'nothing'}; replay: TALLY_SEEDS=${seed}`,
        );
      expect(decisions[0].tally).toMatchObject({ up: 2, down: 1, total: 3 });
    }
  });

  it('a round nobody completes is final at start + timeout + allowance, not before', () => {
    const start = 1_764_000_000_000;
    const clock = new FakeClock(start);
    const tally = new RoundTally(clock, {
      quorumThreshold: 0.51,
      minVotes: 2,
      deadlineMs: 2_000,
      maxOpenRounds: 10,
      maxTrackedSites: 10,
      timingOf: () => ({ startsAt: start, timeoutMs: 10_000 }),
    });
    tally.setRoster(roster);
    tally.add({ siteId: SITE, round: 1, validatorId: 'v1', region: 'eu', up: false });
    clock.advance(11_999);
    expect(tally.tick()).toEqual([]);
    clock.advance(1);
    const [d] = tally.tick();
    // One vote of three registered validators: below MIN_VOTES (majority), so UNKNOWN.
    expect(d).toMatchObject({ verdict: 'UNKNOWN', tally: { total: 1, down: 1 } });
  });
});

function entry(index: number, cmd: Parameters<typeof encodeCommand>[0]): LogEntry {
  return { index, term: 1, type: 'command', data: encodeCommand(cmd) };
}

function decision(round: number, verdict: Decision['verdict'], siteId = SITE): Decision {
  const up = verdict === 'UP' ? 3 : 0;
  return {
    siteId,
    round,
    verdict,
    regionVerdicts: {},
    tally: { up, down: 3 - up, total: 3, quorum: 2, byRegion: {} },
    voters: ['v1', 'v2', 'v3'],
    decidedAt: 1_000 + round,
  };
}

const item = (over: Partial<ScheduleItem> = {}): ScheduleItem => ({
  siteId: SITE,
  intervalMs: 10_000,
  anchorAt: alignedAnchorAt(SITE, 10_000, 1_764_000_000_000),
  downAfterRounds: 1,
  upAfterRounds: 1,
  ...over,
});

describe('forget-site', () => {
  it('drops the status and the schedule, and snapshots lack the site', () => {
    const m = new SiteStatusMachine();
    let i = 1;
    m.apply(entry(i++, { t: 'schedule', items: [item()] }));
    m.apply(entry(i++, { t: 'decision', decision: decision(200_000_000, 'UP') }));
    expect(m.get(SITE)?.verdict).toBe('UP');
    const before = new TextDecoder().decode(m.snapshot());
    expect(before).toContain(SITE);
    expect(m.apply(entry(i++, { t: 'forget-site', siteId: SITE }))).toEqual({
      kind: 'forgot',
      siteId: SITE,
      existed: true,
    });
    expect(m.get(SITE)).toBeUndefined();
    expect(m.schedule(SITE)).toBeUndefined();
    const image = JSON.parse(new TextDecoder().decode(m.snapshot()));
    expect(image.sites).toEqual([]);
    expect(image.schedules).toEqual([]);
    expect(image.forgotten).toEqual([SITE]); // only the id: late entries stay ignored
  });

  it('ignores and counts a late decision; a late schedule does not bring the site back', () => {
    const m = new SiteStatusMachine();
    m.apply(entry(1, { t: 'decision', decision: decision(10, 'UP') }));
    m.apply(entry(2, { t: 'forget-site', siteId: SITE }));
    const late = m.apply(entry(3, { t: 'decision', decision: decision(11, 'DOWN') }));
    expect(late).toMatchObject({ kind: 'ignored', reason: 'forgotten' });
    expect(m.counters.ignoredForgotten).toBe(1);
    expect(m.apply(entry(4, { t: 'schedule', items: [item()] }))).toEqual({
      kind: 'schedule',
      changed: [],
    });
    expect(m.get(SITE)).toBeUndefined();
    // The forgotten set survives a snapshot.
    const r = new SiteStatusMachine();
    r.restore(m.snapshot());
    expect(r.apply(entry(5, { t: 'decision', decision: decision(12, 'DOWN') }))).toMatchObject({
      reason: 'forgotten',
    });
  });
});

describe('schedule segments in the machine', () => {
  it('an interval edit continues the round numbers above the last decided round', () => {
    const m = new SiteStatusMachine();
    const t = 1_764_000_000_000;
    m.apply(entry(1, { t: 'schedule', items: [item()] }));
    const s10 = m.schedule(SITE)!;
    expect(s10.epoch).toBe(1);
    const r = s10.segment.anchorRound + 5;
    m.apply(entry(2, { t: 'decision', decision: decision(r, 'UP') }));
    // 10 s -> 60 s: the epoch-based number would fall from ~1.8e8 to ~2.9e7.
    const anchorAt = alignedAnchorAt(SITE, 60_000, segmentRoundStart(s10.segment, r) + 2_000);
    m.apply(entry(3, { t: 'schedule', items: [item({ intervalMs: 60_000, anchorAt })] }));
    const s60 = m.schedule(SITE)!;
    expect(s60.epoch).toBe(2);
    expect(s60.segment.anchorRound).toBeGreaterThan(r);
    expect(s60.segment.anchorRound).toBeGreaterThan(Math.floor(t / 60_000));
    // Same interval, new confirmation counts: the segment stays.
    m.apply(
      entry(4, {
        t: 'schedule',
        items: [item({ intervalMs: 60_000, anchorAt: 1, downAfterRounds: 3 })],
      }),
    );
    expect(m.schedule(SITE)).toEqual({ ...s60, downAfterRounds: 3 });
  });

  it('snapshot round-trips schedules, pending confirmations and forgotten ids; v1 images restore', () => {
    const m = new SiteStatusMachine();
    m.apply(entry(1, { t: 'schedule', items: [item({ downAfterRounds: 2 })] }));
    m.apply(entry(2, { t: 'decision', decision: decision(10, 'UP') }));
    m.apply(entry(3, { t: 'decision', decision: decision(11, 'DOWN') }));
    m.apply(entry(4, { t: 'forget-site', siteId: '3f1c6a3e-0000-4000-8000-0000000000bb' }));
    const r = new SiteStatusMachine();
    r.restore(m.snapshot());
    expect(r.snapshot()).toEqual(m.snapshot());
    expect(r.get(SITE)?.pending).toEqual({ verdict: 'DOWN', rounds: 1 });
    const v1 = new TextEncoder().encode(
      JSON.stringify({ v: 1, sites: [[SITE, null, 'UP', 5, 10, 5, []]] }),
    );
    const old = new SiteStatusMachine();
    old.restore(v1);
    expect(old.get(SITE)).toMatchObject({ verdict: 'UP', lastRound: 10 });
    expect(old.schedule(SITE)).toBeUndefined();
  });
});

describe('confirmation rounds', () => {
  it('downAfterRounds 3: DOWN only after three consecutive DOWN rounds; UNKNOWN neither counts nor resets', () => {
    const m = new SiteStatusMachine();
    m.apply(entry(1, { t: 'schedule', items: [item({ downAfterRounds: 3, upAfterRounds: 2 })] }));
    const kinds = (round: number, v: Decision['verdict']) => {
      const r = m.applyDecision(decision(round, v));
      return r.kind === 'decision' ? r.transitions.map((x) => x.kind) : [r.kind];
    };
    expect(kinds(0, 'UP')).toEqual([]);
    expect(kinds(1, 'UP')).toEqual([]); // the first UP, confirmed over two rounds
    expect(m.get(SITE)).toMatchObject({ verdict: 'UP' });
    expect(kinds(2, 'DOWN')).toEqual([]);
    expect(kinds(3, 'DOWN')).toEqual([]);
    expect(kinds(4, 'UP')).toEqual([]); // resets
    expect(kinds(5, 'DOWN')).toEqual([]);
    expect(kinds(6, 'UNKNOWN')).toEqual([]);
    expect(kinds(7, 'DOWN')).toEqual([]);
    expect(m.get(SITE)).toMatchObject({ verdict: 'UP', pending: { verdict: 'DOWN', rounds: 2 } });
    expect(kinds(8, 'DOWN')).toEqual(['DOWN']);
    expect(m.get(SITE)?.pending).toBeUndefined();
    expect(kinds(9, 'UP')).toEqual([]);
    expect(kinds(10, 'UP')).toEqual(['RECOVERED']);
  });

  it('default 1: the first DOWN decides, as before', () => {
    const m = new SiteStatusMachine();
    m.applyDecision(decision(1, 'UP'));
    const r = m.applyDecision(decision(2, 'DOWN'));
    expect(r.kind === 'decision' && r.transitions.map((x) => x.kind)).toEqual(['DOWN']);
  });
});
