// The pure mapping behind the dashboard, status pages and badges: window edges, sparkline
// slots, daily bars with gaps, region states in both stored shapes, and the tally view of a
// decision whether its row records per-voter details or only voter ids.
import {
  dayBars,
  daysBack,
  decisionView,
  hoursBack,
  regionStates,
  sparkSlots,
  uptimeOfBars,
  uptimePct,
} from '@/modules/dashboard/site-reads';
import type { CheckOfRound } from '@/modules/dashboard/site-reads.repository';
import { overallState } from '@/modules/status-pages/public-status.service';
import type { PublicSite } from '@/modules/status-pages/status-page.dto';

const H = 3_600_000;
const D = 24 * H;
const NOW = Date.parse('2026-12-01T10:17:00Z');

describe('window edges', () => {
  it('starts a 24 h window at the hour boundary at or before now − 24 h', () => {
    expect(hoursBack(NOW, 24).toISOString()).toBe('2026-11-30T10:00:00.000Z');
  });
  it('starts 90 daily bars at midnight 89 days before today', () => {
    expect(daysBack(NOW, 90).toISOString()).toBe('2026-09-03T00:00:00.000Z');
    expect(daysBack(NOW, 1).toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });
});

describe('uptime', () => {
  it('is null without checks and rounded to 3 decimals', () => {
    expect(uptimePct(0, 0)).toBeNull();
    expect(uptimePct(3, 2)).toBe(66.667);
    expect(uptimePct(1440, 1440)).toBe(100);
  });
});

describe('sparkSlots', () => {
  it('puts each hour in its slot and leaves missing hours null', () => {
    const slots = sparkSlots([
      [0, 100],
      [2, 120],
      [24, 90],
      [30, 1],
    ]);
    expect(slots).toHaveLength(25);
    expect(slots.slice(0, 4)).toEqual([100, null, 120, null]);
    expect(slots[24]).toBe(90);
  });
});

describe('dayBars', () => {
  const from = daysBack(NOW, 3);
  it('gives one bar per day, empty days included, and sums windows of them', () => {
    const bars = dayBars(
      [
        { siteId: 's', day: from.getTime(), checks: 100, upChecks: 90 },
        { siteId: 's', day: from.getTime() + 2 * D, checks: 100, upChecks: 100 },
      ],
      from,
      3,
    );
    expect(bars).toEqual([
      { day: '2026-11-29', checks: 100, upChecks: 90, uptimePct: 90 },
      { day: '2026-11-30', checks: 0, upChecks: 0, uptimePct: null },
      { day: '2026-12-01', checks: 100, upChecks: 100, uptimePct: 100 },
    ]);
    expect(uptimeOfBars(bars, 3)).toBe(95);
    expect(uptimeOfBars(bars, 2)).toBe(100);
    expect(uptimeOfBars(bars.slice(1, 2), 1)).toBeNull();
  });
});

describe('regionStates', () => {
  it('reads both stored shapes and drops anything else', () => {
    expect(
      regionStates({
        eu: 'DOWN',
        us: { verdict: 'UP', since: '2026-12-01T00:00:00Z' },
        ap: 'SIDEWAYS',
        sa: { verdict: 1 },
      }),
    ).toEqual({
      eu: { verdict: 'DOWN', since: null },
      us: { verdict: 'UP', since: '2026-12-01T00:00:00.000Z' },
    });
    expect(regionStates(null)).toEqual({});
    expect(regionStates(['UP'])).toEqual({});
  });
});

describe('decisionView', () => {
  const row = {
    log_index: 42,
    term: 3,
    round: 8,
    verdict: 'DOWN',
    region_verdicts: { eu: 'DOWN', us: 'UP' },
    tally: { up: 1, down: 2, total: 3, quorum: 2, byRegion: { eu: { up: 0, down: 2, total: 2 } } },
    decided_at: '2026-12-01T10:00:00.123+00:00',
  };
  const checks: CheckOfRound[] = [
    {
      validatorId: 'b',
      region: 'eu',
      up: false,
      latencyMs: 10,
      httpStatus: 503,
      failure: 'HTTP_STATUS',
      error: 'status 503',
      checkedAt: '2026-12-01T10:00:00Z',
    },
  ];

  it('joins voter ids with the checks of the round, sorted by region then validator', () => {
    const v = decisionView({ ...row, voters: ['c', 'b'] }, checks);
    expect(v).toMatchObject({
      logIndex: 42,
      term: 3,
      round: 8,
      verdict: 'DOWN',
      regionVerdicts: { eu: 'DOWN', us: 'UP' },
      tally: { up: 1, down: 2, total: 3, quorum: 2 },
      byRegion: { eu: { up: 0, down: 2, total: 2 } },
      decidedAt: '2026-12-01T10:00:00.123Z',
    });
    expect(v.votes.map((x) => [x.validatorId, x.source, x.failure])).toEqual([
      ['c', 'missing', null],
      ['b', 'check', 'HTTP_STATUS'],
    ]);
  });

  it('takes per-voter details from the row when it records them', () => {
    const voters = [
      {
        validatorId: 'b',
        region: 'eu',
        up: false,
        latencyMs: 11,
        httpStatus: 503,
        failure: 'HTTP_STATUS',
      },
      { validatorId: 'a', region: 'us', up: true, latencyMs: 40 },
      { nonsense: true },
    ];
    const v = decisionView({ ...row, voters }, checks);
    expect(v.votes).toEqual([
      {
        validatorId: 'b',
        region: 'eu',
        up: false,
        latencyMs: 11,
        httpStatus: 503,
        failure: 'HTTP_STATUS',
        error: 'status 503',
        source: 'decision',
      },
      {
        validatorId: 'a',
        region: 'us',
        up: true,
        latencyMs: 40,
        httpStatus: null,
        failure: null,
        error: null,
        source: 'decision',
      },
    ]);
    expect(decisionView({ ...row, votes: voters, voters: ['a', 'b'] }, []).votes[0].source).toBe(
      'decision',
    );
  });

  it('survives a malformed row without throwing', () => {
    const v = decisionView({ verdict: 'MAYBE', tally: 'x' }, []);
    expect(v).toMatchObject({
      verdict: 'UNKNOWN',
      logIndex: 0,
      votes: [],
      tally: { quorum: null },
    });
  });
});

describe('overallState of a status page', () => {
  const site = (over: Partial<PublicSite>): PublicSite => ({
    id: 'x',
    name: 'x',
    paused: false,
    status: { verdict: 'UP', since: null, regions: {} },
    uptime: { '24h': null, '7d': null, '30d': null, '90d': null },
    days: [],
    incidents: [],
    ...over,
  });
  it('is outage, degraded, operational or unknown; paused sites do not count', () => {
    expect(
      overallState([site({}), site({ status: { verdict: 'DOWN', since: null, regions: {} } })]),
    ).toBe('outage');
    expect(
      overallState([
        site({
          status: { verdict: 'UP', since: null, regions: { eu: { verdict: 'DOWN', since: null } } },
        }),
      ]),
    ).toBe('degraded');
    expect(overallState([site({}), site({ paused: true, status: null })])).toBe('operational');
    expect(overallState([site({ status: null })])).toBe('unknown');
    expect(overallState([])).toBe('unknown');
  });
  it('is maintenance when every DOWN site is in a window in progress (or the page is)', () => {
    const down = (id: string) =>
      site({ id, status: { verdict: 'DOWN', since: null, regions: {} } });
    const window = (siteIds: string[], activeNow = true) => ({
      title: 'w',
      start: '2026-01-01T00:00:00.000Z',
      end: '2026-01-01T01:00:00.000Z',
      activeNow,
      siteIds,
    });
    expect(overallState([down('a'), site({})], [window(['a'])])).toBe('maintenance');
    expect(overallState([down('a'), down('b')], [window(['a'])])).toBe('outage');
    expect(overallState([down('a'), down('b')], [window([])])).toBe('maintenance');
    expect(overallState([down('a')], [window(['a'], false)])).toBe('outage');
  });
});
