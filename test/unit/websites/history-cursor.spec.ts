import { DEFAULT_CHECK } from '@/modules/ping/check-spec';
import { DomainError } from '@/common/domain-error';
import { decodeCursor, encodeCursor } from '@/modules/history/history.service';
import { historyQuerySchema } from '@/modules/history/history.dto';
import { healthLogSchema } from '@/modules/ping-logs/health-log.schema';
import { toSiteSpec } from '@/modules/websites/website.site-source';

describe('history cursor', () => {
  it('round-trips (checkedAt, id), ids beyond 2^53 included', () => {
    const row = { checkedAt: new Date('2026-01-02T03:04:05.678Z'), id: 9_007_199_254_740_993n };
    expect(decodeCursor(encodeCursor(row))).toEqual(row);
  });

  it.each(['', 'garbage', Buffer.from('2026-01-01|abc').toString('base64url')])(
    'refuses %j as a validation error',
    (c) => {
      expect(() => decodeCursor(c)).toThrow(DomainError);
    },
  );
});

describe('history query', () => {
  it('parses filters and defaults', () => {
    expect(historyQuerySchema.parse({ up: 'false', region: 'eu-west' })).toEqual({
      limit: 50,
      up: false,
      region: 'eu-west',
    });
    expect(historyQuerySchema.safeParse({ limit: '501' }).success).toBe(false);
    expect(
      historyQuerySchema.safeParse({ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' })
        .success,
    ).toBe(false);
  });
});

describe('health-log schema', () => {
  const ok = {
    v: 1,
    siteId: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
    round: 5,
    validatorId: 'v1',
    region: 'eu',
    up: false,
    latencyMs: 12,
    httpStatus: null,
    failure: 'DNS',
    error: 'x\u0000y',
    phases: { total: 12, extra: 'dropped' },
    checkedAt: '2026-01-01T00:00:00.000Z',
  };
  it('accepts what the sink publishes, cleaning what PostgreSQL cannot store', () => {
    const p = healthLogSchema.parse(ok);
    expect(p.error).toBe('xy');
    expect(p.phases).toEqual({ total: 12 });
  });
  it.each([
    ['a negative latency', { latencyMs: -1 }],
    ['an unsafe round', { round: 2 ** 60 }],
    ['NaN in phases', { phases: { total: Number.NaN } }],
    ['a bad status', { httpStatus: 1000 }],
  ])('refuses %s', (_, over) => {
    expect(healthLogSchema.safeParse({ ...ok, ...over }).success).toBe(false);
  });
});

describe('site source mapping', () => {
  it('clamps the timeout to the interval and carries the check options', () => {
    const now = new Date();
    expect(
      toSiteSpec({
        id: 'a',
        ownerId: 'o',
        name: 'n',
        url: 'https://example.com',
        check: DEFAULT_CHECK,
        intervalMs: 10_000,
        timeoutMs: 60_000,
        expectedStatus: [200],
        keyword: 'ok',
        paused: false,
        downAfterRounds: 1,
        upAfterRounds: 1,
        retries: 2,
        retryDelayMs: 500,
        createdAt: now,
        updatedAt: now,
      }),
    ).toEqual({
      id: 'a',
      url: 'https://example.com',
      check: DEFAULT_CHECK,
      ownerId: 'o',
      intervalMs: 10_000,
      timeoutMs: 10_000,
      expectedStatus: [200],
      keyword: 'ok',
      retries: 2,
      retryDelayMs: 500,
    });
  });
});
