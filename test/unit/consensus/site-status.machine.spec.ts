import {
  encodeCommand,
  encodeDecision,
  type Decision,
  type Verdict,
} from '@/core/consensus/decision';
import {
  SiteStatusMachine,
  type SiteStatusApplyResult,
} from '@/core/consensus/site-status.machine';
import type { LogEntry } from '@/core/raft/raft.types';
import { SeededRandom } from '@/core/ports/seeded-random';

/**
 * The replicated site status: transitions per DESIGN §2 (DOWN, RECOVERED,
 * REGION_DOWN, REGION_RECOVERED), UNKNOWN changes nothing, stale rounds are
 * ignored, snapshots round-trip exactly, and replicas agree.
 */
let index = 0;
function entry(d: Decision | string): LogEntry {
  return {
    index: ++index,
    term: 1,
    type: 'command',
    data: typeof d === 'string' ? d : encodeDecision(d),
  };
}

function decision(
  round: number,
  verdict: Verdict,
  regions: Record<string, Verdict> = {},
  siteId = 's1',
): Decision {
  return {
    siteId,
    url: `https://${siteId}.example/`,
    round,
    verdict,
    regionVerdicts: regions,
    tally: { up: 0, down: 0, total: 0, quorum: 1, byRegion: {} },
    voters: [],
    decidedAt: 1_000 * round,
  };
}

function kinds(r: SiteStatusApplyResult): string[] {
  if (r.kind !== 'decision') return [`ignored:${r.kind === 'ignored' ? r.reason : r.kind}`];
  return r.transitions.map((t) => (t.region ? `${t.kind}:${t.region}` : t.kind));
}

const UP3 = { eu: 'UP', us: 'UP', ap: 'UP' } as const;

describe('SiteStatusMachine transitions', () => {
  it.each<[string, [Verdict, Record<string, Verdict>][], string[][]]>([
    [
      'first UP is silent; DOWN then RECOVERED',
      [
        ['UP', UP3],
        ['DOWN', { eu: 'DOWN', us: 'DOWN', ap: 'DOWN' }],
        ['DOWN', { eu: 'DOWN', us: 'DOWN', ap: 'DOWN' }],
        ['UP', UP3],
      ],
      [[], ['DOWN'], [], ['RECOVERED']],
    ],
    ['a site down from its very first decision alerts', [['DOWN', { eu: 'DOWN' }]], [['DOWN']]],
    [
      'UNKNOWN changes nothing, globally or per region',
      [
        ['UP', UP3],
        ['UNKNOWN', { eu: 'UNKNOWN' }],
        ['DOWN', { eu: 'DOWN', us: 'DOWN' }],
        ['UNKNOWN', {}],
        ['UP', UP3],
      ],
      [[], [], ['DOWN'], [], ['RECOVERED']],
    ],
    [
      'one region down while the site is UP: exactly one REGION_DOWN, then REGION_RECOVERED',
      [
        ['UP', UP3],
        ['UP', { ...UP3, ap: 'DOWN' }],
        ['UP', { ...UP3, ap: 'DOWN' }],
        ['UP', { ...UP3, ap: 'UNKNOWN' }],
        ['UP', UP3],
      ],
      [[], ['REGION_DOWN:ap'], [], [], ['REGION_RECOVERED:ap']],
    ],
    [
      'first decision UP with a region DOWN raises REGION_DOWN',
      [['UP', { ...UP3, us: 'DOWN' }]],
      [['REGION_DOWN:us']],
    ],
    [
      'no REGION_DOWN while the whole site is DOWN; it follows on recovery if the region stays down',
      [
        ['DOWN', { eu: 'DOWN', us: 'DOWN', ap: 'DOWN' }],
        ['UP', { eu: 'UP', us: 'UP', ap: 'DOWN' }],
        ['UP', UP3],
      ],
      [['DOWN'], ['RECOVERED', 'REGION_DOWN:ap'], ['REGION_RECOVERED:ap']],
    ],
    [
      'an alerted region stays alerted through a global outage and recovers once',
      [
        ['UP', { ...UP3, eu: 'DOWN' }],
        ['DOWN', { eu: 'DOWN', us: 'DOWN', ap: 'DOWN' }],
        ['UP', UP3],
      ],
      [['REGION_DOWN:eu'], ['DOWN'], ['RECOVERED', 'REGION_RECOVERED:eu']],
    ],
    [
      'two regions down: one REGION_DOWN each, in region order',
      [
        ['UP', UP3],
        ['UP', { eu: 'DOWN', us: 'DOWN', ap: 'UP' }],
      ],
      [[], ['REGION_DOWN:eu', 'REGION_DOWN:us']],
    ],
    [
      'region DOWN while the site is still UNKNOWN waits for the site to be UP',
      [
        ['UNKNOWN', { eu: 'DOWN' }],
        ['UP', { us: 'UP', ap: 'UP' }],
      ],
      [[], ['REGION_DOWN:eu']],
    ],
  ])('%s', (_story, steps, expected) => {
    const m = new SiteStatusMachine();
    const got = steps.map(([verdict, regions], i) =>
      kinds(m.apply(entry(decision(i + 1, verdict, regions)))),
    );
    expect(got).toEqual(expected);
  });

  it('keeps verdict, since, last round and regions', () => {
    const m = new SiteStatusMachine();
    m.apply(entry(decision(1, 'UP', UP3)));
    m.apply(entry(decision(2, 'UP', { ...UP3, ap: 'DOWN' })));
    m.apply(entry(decision(3, 'UNKNOWN', {})));
    expect(m.get('s1')).toEqual({
      siteId: 's1',
      url: 'https://s1.example/',
      verdict: 'UP',
      since: 1_000,
      lastRound: 3,
      lastDecidedAt: 3_000,
      regions: {
        ap: { verdict: 'DOWN', since: 2_000, alerted: true },
        eu: { verdict: 'UP', since: 1_000, alerted: false },
        us: { verdict: 'UP', since: 1_000, alerted: false },
      },
    });
  });

  it('ignores a decision for a round at or before the last applied one', () => {
    const m = new SiteStatusMachine();
    m.apply(entry(decision(5, 'UP', UP3)));
    const stale = m.apply(entry(decision(4, 'DOWN', { eu: 'DOWN' })));
    expect(stale).toMatchObject({ kind: 'ignored', reason: 'stale', decision: { round: 4 } });
    expect(kinds(m.apply(entry(decision(5, 'DOWN'))))).toEqual(['ignored:stale']);
    expect(m.get('s1')).toMatchObject({ verdict: 'UP', lastRound: 5 });
  });

  it('carries the transition details the alert pipeline needs', () => {
    const m = new SiteStatusMachine();
    m.apply(entry(decision(1, 'UP', UP3)));
    const r = m.apply(entry(decision(2, 'UP', { ...UP3, eu: 'DOWN' })));
    expect(r.kind === 'decision' && r.transitions).toEqual([
      {
        kind: 'REGION_DOWN',
        siteId: 's1',
        url: 'https://s1.example/',
        region: 'eu',
        round: 2,
        at: 2_000,
        tally: { up: 0, down: 0, total: 0, quorum: 1, byRegion: {} },
        dedupKey: 's1:2:REGION_DOWN:eu',
      },
    ]);
  });

  it('skips no-ops and malformed entries without throwing, and forgets deleted sites', () => {
    const m = new SiteStatusMachine();
    expect(m.apply({ index: 1, term: 1, type: 'noop', data: '' })).toEqual({
      kind: 'ignored',
      reason: 'noop',
    });
    expect(m.apply(entry('garbage'))).toMatchObject({ kind: 'ignored', reason: 'malformed' });
    expect(m.apply(entry(new TextDecoder().decode(new Uint8Array([0xff]))))).toMatchObject({
      reason: 'malformed',
    });
    m.apply(entry(decision(1, 'UP')));
    expect(m.apply(entry(encodeCommand({ t: 'forget-site', siteId: 's1' })))).toEqual({
      kind: 'forgot',
      siteId: 's1',
      existed: true,
    });
    expect(m.size).toBe(0);
  });
});

describe('SiteStatusMachine replication', () => {
  /** A random decision stream over a few sites and regions, rounds mostly increasing. */
  function stream(seed: number, n: number): LogEntry[] {
    const rnd = new SeededRandom(seed);
    const verdicts: Verdict[] = ['UP', 'UP', 'UP', 'DOWN', 'UNKNOWN'];
    const rounds = new Map<string, number>();
    const out: LogEntry[] = [];
    for (let i = 1; i <= n; i++) {
      if (rnd.chance(0.05)) {
        out.push({ index: i, term: 1, type: 'noop', data: '' });
        continue;
      }
      const site = rnd.pick(['s1', 's2', 's3', 's4']);
      const round = (rounds.get(site) ?? 0) + rnd.int(-1, 3);
      rounds.set(site, Math.max(round, rounds.get(site) ?? 0));
      const regions: Record<string, Verdict> = {};
      for (const r of ['eu', 'us', 'ap']) if (rnd.chance(0.8)) regions[r] = rnd.pick(verdicts);
      const data = rnd.chance(0.02)
        ? encodeCommand({ t: 'forget-site', siteId: site })
        : encodeDecision({ ...decision(Math.max(0, round), rnd.pick(verdicts), regions, site) });
      out.push({ index: i, term: 1, type: 'command', data });
    }
    return out;
  }

  it('gives identical state and transitions on every replica', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const log = stream(seed, 400);
      const replicas = [new SiteStatusMachine(), new SiteStatusMachine(), new SiteStatusMachine()];
      const outputs = replicas.map((m) => log.map((e) => JSON.stringify(m.apply(e))));
      expect(outputs[1]).toEqual(outputs[0]);
      expect(outputs[2]).toEqual(outputs[0]);
      const snaps = replicas.map((m) => Buffer.from(m.snapshot()).toString());
      expect(new Set(snaps).size).toBe(1);
    }
  });

  it('snapshot/restore round-trips exactly, and a restored replica continues identically', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const log = stream(seed, 400);
      const cut = 150 + (seed % 100);
      const whole = new SiteStatusMachine();
      const wholeOut = log.map((e) => JSON.stringify(whole.apply(e)));

      const first = new SiteStatusMachine();
      log.slice(0, cut).forEach((e) => first.apply(e));
      const image = first.snapshot();
      const restored = new SiteStatusMachine();
      restored.restore(image);
      expect(Buffer.from(restored.snapshot())).toEqual(Buffer.from(image));
      expect(restored.list()).toEqual(first.list());
      const restOut = log.slice(cut).map((e) => JSON.stringify(restored.apply(e)));
      expect(restOut).toEqual(wholeOut.slice(cut));
      expect(Buffer.from(restored.snapshot())).toEqual(Buffer.from(whole.snapshot()));
    }
  });

  it('restore replaces the whole state and refuses foreign bytes', () => {
    const m = new SiteStatusMachine();
    m.apply(entry(decision(1, 'DOWN', {}, 'old')));
    m.restore(new SiteStatusMachine().snapshot());
    expect(m.size).toBe(0);
    expect(() => m.restore(new TextEncoder().encode('{"v":9}'))).toThrow();
  });
});
