import { quorumOf, regionMinVotes, tallyRound, verdictOf } from '@/core/consensus/tally';

/** DESIGN §2's verdict rule, as tables. */
describe('verdict rules', () => {
  it.each`
    n      | threshold | quorum
    ${1}   | ${0.51}   | ${1}
    ${2}   | ${0.51}   | ${2}
    ${3}   | ${0.51}   | ${2}
    ${4}   | ${0.51}   | ${3}
    ${5}   | ${0.6}    | ${3}
    ${100} | ${0.51}   | ${51}
    ${10}  | ${0.7}    | ${7}
    ${3}   | ${1}      | ${3}
    ${0}   | ${0.51}   | ${1}
  `('quorum of $n at $threshold is $quorum (no float drift)', ({ n, threshold, quorum }) => {
    expect(quorumOf(n, threshold)).toBe(quorum);
  });

  it.each`
    case                                       | up   | down | threshold | minVotes | verdict
    ${'unanimous down'}                        | ${0} | ${3} | ${0.51}   | ${1}     | ${'DOWN'}
    ${'unanimous up'}                          | ${3} | ${0} | ${0.51}   | ${1}     | ${'UP'}
    ${'one of three down: UP, not DOWN'}       | ${2} | ${1} | ${0.51}   | ${1}     | ${'UP'}
    ${'two of three down'}                     | ${1} | ${2} | ${0.51}   | ${1}     | ${'DOWN'}
    ${'tie 1-1'}                               | ${1} | ${1} | ${0.51}   | ${1}     | ${'UNKNOWN'}
    ${'tie 2-2'}                               | ${2} | ${2} | ${0.51}   | ${1}     | ${'UNKNOWN'}
    ${'MIN_VOTES not reached'}                 | ${0} | ${2} | ${0.51}   | ${3}     | ${'UNKNOWN'}
    ${'MIN_VOTES exactly reached'}             | ${0} | ${3} | ${0.51}   | ${3}     | ${'DOWN'}
    ${'no votes'}                              | ${0} | ${0} | ${0.51}   | ${1}     | ${'UNKNOWN'}
    ${'3 of 5 down at 0.6'}                    | ${2} | ${3} | ${0.6}    | ${1}     | ${'DOWN'}
    ${'3 of 5 down at 0.7: no side reaches 4'} | ${2} | ${3} | ${0.7}    | ${1}     | ${'UNKNOWN'}
    ${'unanimity required, one dissent'}       | ${4} | ${1} | ${1}      | ${1}     | ${'UNKNOWN'}
    ${'single node cluster, down'}             | ${0} | ${1} | ${0.51}   | ${1}     | ${'DOWN'}
  `('$case → $verdict', ({ up, down, threshold, minVotes, verdict }) => {
    expect(verdictOf({ up, down, total: up + down }, threshold, minVotes)).toBe(verdict);
  });

  it('never yields both sides: UP and DOWN need more than half each', () => {
    const both: string[] = [];
    for (let n = 1; n <= 30; n++)
      for (let down = 0; down <= n; down++)
        for (const t of [0.51, 0.6, 0.75, 1]) {
          const q = quorumOf(n, t);
          if (down >= q && n - down >= q) both.push(`n=${n} down=${down} t=${t}`);
        }
    expect(both).toEqual([]);
  });

  it.each`
    minVotes | regionSize   | expected
    ${1}     | ${5}         | ${1}
    ${3}     | ${1}         | ${1}
    ${3}     | ${2}         | ${2}
    ${3}     | ${5}         | ${3}
    ${3}     | ${undefined} | ${1}
  `(
    'region MIN_VOTES = min($minVotes, $regionSize) → $expected',
    ({ minVotes, regionSize, expected }) => {
      expect(regionMinVotes(minVotes, regionSize)).toBe(expected);
    },
  );
});

describe('tallyRound', () => {
  const rules = { quorumThreshold: 0.51, minVotes: 2 };
  const v = (validatorId: string, region: string, up: boolean) => ({ validatorId, region, up });

  it('one validator (one region) down among three: global UP, that region DOWN', () => {
    const o = tallyRound(
      [v('a', 'eu', false), v('b', 'us', true), v('c', 'ap', true)],
      rules,
      new Map([
        ['eu', 1],
        ['us', 1],
        ['ap', 1],
      ]),
    );
    expect(o.verdict).toBe('UP');
    expect(o.regionVerdicts).toEqual({ ap: 'UP', eu: 'DOWN', us: 'UP' });
    expect(o.tally).toEqual({
      up: 2,
      down: 1,
      total: 3,
      quorum: 2,
      byRegion: {
        ap: { up: 1, down: 0, total: 1 },
        eu: { up: 0, down: 1, total: 1 },
        us: { up: 1, down: 0, total: 1 },
      },
    });
    expect(o.voters).toEqual(['a', 'b', 'c']);
  });

  it('a whole region down among three regions of two: still no global DOWN', () => {
    const votes = [
      v('a1', 'eu', false),
      v('a2', 'eu', false),
      v('b1', 'us', true),
      v('b2', 'us', true),
      v('c1', 'ap', true),
      v('c2', 'ap', true),
    ];
    const sizes = new Map([
      ['eu', 2],
      ['us', 2],
      ['ap', 2],
    ]);
    const o = tallyRound(votes, rules, sizes);
    expect(o.verdict).toBe('UP');
    expect(o.regionVerdicts.eu).toBe('DOWN');
  });

  it('a region split 1-1 is UNKNOWN; a region with one vote of two live is UNKNOWN at MIN_VOTES 2', () => {
    const o = tallyRound(
      [v('a1', 'eu', false), v('a2', 'eu', true), v('b1', 'us', false)],
      rules,
      new Map([
        ['eu', 2],
        ['us', 2],
      ]),
    );
    expect(o.regionVerdicts).toEqual({ eu: 'UNKNOWN', us: 'UNKNOWN' });
    expect(o.verdict).toBe('DOWN'); // 2 of 3 down, n = 3 >= MIN_VOTES
  });
});
