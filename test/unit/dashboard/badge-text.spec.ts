import { formatPct, statusFace, uptimeFace } from '@/modules/badges/badge-text';

describe('badge faces', () => {
  it('says up, down, down in a region, paused or unknown', () => {
    const up = { paused: false, verdict: 'UP' as const, regions: {} };
    expect(statusFace(up)).toEqual({ label: 'status', message: 'up', color: 'brightgreen' });
    expect(statusFace({ ...up, verdict: 'DOWN' }).message).toBe('down');
    expect(
      statusFace({
        ...up,
        regions: { us: { verdict: 'DOWN' }, eu: { verdict: 'DOWN' }, ap: { verdict: 'UP' } },
      }),
    ).toEqual({ label: 'status', message: 'down in eu, us', color: 'orange' });
    expect(statusFace({ ...up, paused: true, verdict: 'DOWN' }).message).toBe('paused');
    expect(statusFace({ ...up, verdict: null }).message).toBe('unknown');
    expect(statusFace({ ...up, verdict: 'UNKNOWN' }).message).toBe('unknown');
  });

  it('shows uptime with two decimals, never rounding up to 100, coloured by thresholds', () => {
    expect(formatPct(99.996)).toBe('99.99');
    expect(formatPct(100)).toBe('100');
    expect(uptimeFace('30d', 99.95)).toEqual({
      label: 'uptime 30d',
      message: '99.95%',
      color: 'brightgreen',
    });
    expect(uptimeFace('7d', 99.5).color).toBe('green');
    expect(uptimeFace('7d', 98).color).toBe('yellowgreen');
    expect(uptimeFace('7d', 96).color).toBe('yellow');
    expect(uptimeFace('7d', 91).color).toBe('orange');
    expect(uptimeFace('7d', 50).color).toBe('red');
    expect(uptimeFace('24h', null)).toEqual({
      label: 'uptime 24h',
      message: 'no data',
      color: 'lightgrey',
    });
  });
});
