import {
  CommandFormatError,
  decodeCommand,
  encodeCommand,
  encodeDecision,
  type Decision,
} from '@/core/consensus/decision';
import { alertDedupKey } from '@/modules/alerts/alert-events';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';

const sample: Decision = {
  siteId: 's1',
  url: 'https://example.com/',
  round: 42,
  verdict: 'DOWN',
  regionVerdicts: { us: 'DOWN', eu: 'UNKNOWN' },
  tally: {
    up: 1,
    down: 2,
    total: 3,
    quorum: 2,
    byRegion: { us: { up: 0, down: 2, total: 2 }, eu: { up: 1, down: 0, total: 1 } },
  },
  voters: ['c', 'a', 'b'],
  decidedAt: 1_700_000_000_123,
};

describe('Decision encoding', () => {
  it('is deterministic: key order and voter order do not change the bytes', () => {
    const shuffled: Decision = {
      decidedAt: sample.decidedAt,
      voters: ['b', 'c', 'a'],
      tally: {
        byRegion: { eu: { total: 1, down: 0, up: 1 }, us: { total: 2, up: 0, down: 2 } },
        quorum: 2,
        total: 3,
        down: 2,
        up: 1,
      },
      regionVerdicts: { eu: 'UNKNOWN', us: 'DOWN' },
      verdict: 'DOWN',
      round: 42,
      url: 'https://example.com/',
      siteId: 's1',
    };
    expect(encodeDecision(shuffled)).toBe(encodeDecision(sample));
    expect(encodeDecision(sample)).toBe(
      '{"v":1,"t":"decision","siteId":"s1","url":"https://example.com/","round":42,"verdict":"DOWN",' +
        '"regionVerdicts":{"eu":"UNKNOWN","us":"DOWN"},"tally":{"up":1,"down":2,"total":3,"quorum":2,' +
        '"byRegion":{"eu":{"up":1,"down":0,"total":1},"us":{"up":0,"down":2,"total":2}}},' +
        '"voters":["a","b","c"],"decidedAt":1700000000123}',
    );
  });

  it('round-trips, from a string or bytes', () => {
    const text = encodeDecision(sample);
    const back = decodeCommand(text);
    expect(back).toEqual({ t: 'decision', decision: { ...sample, voters: ['a', 'b', 'c'] } });
    expect(decodeCommand(new TextEncoder().encode(text))).toEqual(back);
    expect(encodeCommand(back)).toBe(text);
    const noUrl = { ...sample, url: undefined };
    delete noUrl.url;
    expect(decodeCommand(encodeDecision(noUrl))).toEqual({
      t: 'decision',
      decision: { ...noUrl, voters: ['a', 'b', 'c'] },
    });
    expect(decodeCommand(encodeCommand({ t: 'forget-site', siteId: 's1' }))).toEqual({
      t: 'forget-site',
      siteId: 's1',
    });
  });

  it.each([
    ['not JSON', '{"v":1,'],
    ['another version', '{"v":2,"t":"decision"}'],
    ['an unknown type', '{"v":1,"t":"drop-table"}'],
    ['a bad verdict', encodeDecision(sample).replace('"verdict":"DOWN"', '"verdict":"MAYBE"')],
    ['a negative round', encodeDecision(sample).replace('"round":42', '"round":-1')],
    ['a bad voter', encodeDecision(sample).replace('"a","b"', '"a b","b"')],
    ['a bad region', encodeDecision(sample).replace('"eu":"UNKNOWN"', '"e u":"UNKNOWN"')],
    ['more votes than total', encodeDecision(sample).replace('"up":1,"down":2', '"up":5,"down":2')],
    ['an array', '[1,2]'],
  ])('refuses %s', (_what, text) => {
    expect(() => decodeCommand(text)).toThrow(CommandFormatError);
  });

  it('builds alert dedup keys exactly like the alert pipeline', () => {
    const m = new SiteStatusMachine();
    const r = m.applyDecision(sample);
    if (r.kind !== 'decision') throw new Error('expected a decision');
    const [t] = r.transitions;
    expect(t.dedupKey).toBe(alertDedupKey({ ...t, region: t.region }));
  });
});
