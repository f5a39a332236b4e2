import { RoundTally, type RoundTallyOptions } from '@/core/consensus/round-tally';
import { FakeClock } from '../../fakes/fake-clock';

/**
 * The hub's per-(site, round) accumulator: early finalization when every live
 * validator voted, the deadline otherwise, one vote per validator, closed rounds
 * stay closed, bounded memory.
 */
const roster = [
  { id: 'a', region: 'eu' },
  { id: 'b', region: 'us' },
  { id: 'c', region: 'ap' },
];

function setup(overrides: Partial<RoundTallyOptions> = {}) {
  const clock = new FakeClock(1_000_000);
  const tally = new RoundTally(clock, {
    quorumThreshold: 0.51,
    minVotes: 2,
    deadlineMs: 5_000,
    maxOpenRounds: 100,
    maxTrackedSites: 100,
    ...overrides,
  });
  tally.setRoster(roster);
  return { clock, tally };
}

const vote = (validatorId: string, up: boolean, round = 7, siteId = 's1') => ({
  siteId,
  round,
  validatorId,
  region: roster.find((r) => r.id === validatorId)?.region ?? 'xx',
  up,
});

describe('RoundTally', () => {
  it('finalizes as soon as every live validator voted', () => {
    const { clock, tally } = setup();
    expect(tally.add(vote('a', false))).toEqual({ outcome: 'counted' });
    expect(tally.add(vote('b', true))).toEqual({ outcome: 'counted' });
    clock.advance(1_234);
    const r = tally.add(vote('c', true));
    expect(r.outcome).toBe('counted');
    expect(r.decision).toEqual({
      siteId: 's1',
      round: 7,
      verdict: 'UP',
      regionVerdicts: { ap: 'UP', eu: 'DOWN', us: 'UP' },
      tally: {
        up: 2,
        down: 1,
        total: 3,
        quorum: 2,
        byRegion: {
          ap: { up: 1, down: 0, total: 1 },
          eu: { up: 0, down: 1, total: 1 },
          us: { up: 1, down: 0, total: 1 },
        },
      },
      voters: ['a', 'b', 'c'],
      decidedAt: 1_001_234,
    });
    expect(tally.stats()).toMatchObject({ open: 0, finalized: 1, finalizedComplete: 1 });
  });

  it('finalizes at the deadline with the votes it has (MIN_VOTES not reached → UNKNOWN)', () => {
    const { clock, tally } = setup();
    tally.add(vote('a', false));
    clock.advance(4_999);
    expect(tally.tick()).toEqual([]);
    expect(tally.nextDeadline()).toBe(1_005_000);
    clock.advance(1);
    const [d] = tally.tick();
    expect(d).toMatchObject({ verdict: 'UNKNOWN', regionVerdicts: { eu: 'DOWN' }, voters: ['a'] });
    expect(tally.stats()).toMatchObject({ open: 0, finalizedDeadline: 1 });
  });

  it('two of three down by the deadline → DOWN', () => {
    const { clock, tally } = setup();
    tally.add(vote('a', false));
    tally.add(vote('b', false));
    clock.advance(5_000);
    expect(tally.tick().map((d) => d.verdict)).toEqual(['DOWN']);
  });

  it('counts each validator once: duplicates and conflicting second votes are refused', () => {
    const { tally } = setup();
    tally.add(vote('a', false));
    expect(tally.add(vote('a', false)).outcome).toBe('duplicate');
    expect(tally.add(vote('a', true)).outcome).toBe('conflicting');
    tally.add(vote('b', true));
    const d = tally.add(vote('c', true)).decision!;
    expect(d.tally).toMatchObject({ up: 2, down: 1, total: 3 });
    expect(tally.stats()).toMatchObject({ counted: 3, duplicate: 1, conflicting: 1 });
  });

  it('ignores votes for a finalized round and for older rounds of that site', () => {
    const { tally } = setup();
    for (const id of ['a', 'b', 'c']) tally.add(vote(id, true, 7));
    expect(tally.add(vote('a', false, 7)).outcome).toBe('closed');
    expect(tally.add(vote('a', false, 6)).outcome).toBe('closed');
    expect(tally.add(vote('a', false, 8)).outcome).toBe('counted');
    expect(tally.add(vote('a', false, 7, 's2')).outcome).toBe('counted');
    expect(tally.lastFinalized('s1')).toBe(7);
  });

  it('keeps an older round open when a newer one finalizes first', () => {
    const { clock, tally } = setup();
    tally.add(vote('a', true, 6));
    for (const id of ['a', 'b', 'c']) tally.add(vote(id, true, 7));
    expect(tally.add(vote('b', true, 6)).outcome).toBe('counted');
    clock.advance(5_000);
    expect(tally.tick().map((d) => [d.round, d.verdict])).toEqual([[6, 'UP']]);
  });

  it('a roster change can complete a round; an empty roster waits for the deadline', () => {
    const { clock, tally } = setup();
    tally.add(vote('a', true));
    tally.add(vote('b', true));
    tally.setRoster(roster.slice(0, 2));
    expect(tally.tick().map((d) => d.verdict)).toEqual(['UP']);
    tally.setRoster([]);
    tally.add(vote('a', true, 8));
    tally.add(vote('b', true, 8));
    tally.add(vote('c', true, 8));
    expect(tally.tick()).toEqual([]);
    clock.advance(5_000);
    expect(tally.tick()).toHaveLength(1);
  });

  it('does not complete early while the roster lists fewer validators than expected', () => {
    const { clock, tally } = setup();
    tally.setRoster(roster.slice(0, 1), 3);
    expect(tally.add(vote('a', true)).decision).toBeUndefined();
    clock.advance(5_000);
    expect(tally.tick()).toHaveLength(1);
  });

  it('region MIN_VOTES follows the roster: a lone validator in its region decides that region', () => {
    const { tally } = setup({ minVotes: 3 });
    tally.setRoster([
      { id: 'a', region: 'eu' },
      { id: 'b1', region: 'us' },
      { id: 'b2', region: 'us' },
      { id: 'b3', region: 'us' },
    ]);
    tally.add({ ...vote('a', false), region: 'eu' });
    tally.add({ ...vote('b1', true), region: 'us' });
    tally.add({ ...vote('b2', true), region: 'us' });
    const d = tally.add({ ...vote('b3', true), region: 'us' }).decision!;
    expect(d.verdict).toBe('UP');
    expect(d.regionVerdicts).toEqual({ eu: 'DOWN', us: 'UP' });
  });

  it('bounds open rounds: the oldest is dropped undecided, counted, and stays closed', () => {
    const { clock, tally } = setup({ maxOpenRounds: 3 });
    for (let r = 1; r <= 5; r++) tally.add(vote('a', true, r));
    expect(tally.stats()).toMatchObject({ open: 3, evictedRounds: 2 });
    expect(tally.add(vote('b', true, 1)).outcome).toBe('closed');
    clock.advance(5_000);
    expect(tally.tick().map((d) => d.round)).toEqual([3, 4, 5]);
  });

  it('bounds remembered sites', () => {
    const { tally } = setup({ maxTrackedSites: 2 });
    for (const site of ['s1', 's2', 's3'])
      for (const id of ['a', 'b', 'c']) tally.add(vote(id, true, 7, site));
    expect(tally.lastFinalized('s1')).toBeUndefined();
    expect(tally.lastFinalized('s3')).toBe(7);
  });

  it('shows live rounds with who is still missing', () => {
    const { clock, tally } = setup();
    tally.add(vote('b', false));
    const [live] = tally.live('s1');
    expect(live).toMatchObject({
      round: 7,
      openedAt: clock.now(),
      deadline: clock.now() + 5_000,
      waitingFor: ['a', 'c'],
      tally: { up: 0, down: 1, total: 1 },
    });
    expect(tally.live('other')).toEqual([]);
  });

  it('takes a custom deadline rule', () => {
    const { clock, tally } = setup({ deadlineOf: (_s, round) => round * 1_000 + 1_000_500 });
    tally.add(vote('a', true, 1));
    expect(tally.nextDeadline()).toBe(1_001_500);
    clock.advance(1_500);
    expect(tally.tick()).toHaveLength(1);
  });

  it('rejects rules that would allow both verdicts', () => {
    expect(() => setup({ quorumThreshold: 0.5 })).toThrow(RangeError);
  });
});
