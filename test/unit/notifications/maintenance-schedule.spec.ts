// Maintenance windows in local time, pure: cron starts in an IANA zone move with daylight saving
// (spring forward and fall back, Europe and the US), one-off windows are half-open, and bad cron
// expressions and zones are named.
import {
  cronProblem,
  occurrenceAt,
  occurrencesBetween,
  WindowSpec,
} from '@/modules/notifications/maintenance/maintenance-schedule';

const at = (iso: string) => Date.parse(iso);
const recurring = (
  cron: string,
  timeZone: string,
  durationMinutes: number,
  extra: Partial<WindowSpec> = {},
): WindowSpec => ({
  id: 'w',
  startsAt: null,
  endsAt: null,
  cron,
  durationMinutes,
  timeZone,
  activeFrom: null,
  activeUntil: null,
  ...extra,
});

describe('maintenance schedule', () => {
  it('follows Europe/Berlin across the spring change: 09:00 local is 08:00Z, then 07:00Z', () => {
    const w = recurring('0 9 * * *', 'Europe/Berlin', 60);
    expect(occurrenceAt(w, at('2026-03-28T08:30:00Z'))).toEqual({
      start: at('2026-03-28T08:00:00Z'),
      end: at('2026-03-28T09:00:00Z'),
    });
    expect(occurrenceAt(w, at('2026-03-28T07:30:00Z'))).toBeNull();
    expect(occurrenceAt(w, at('2026-03-30T07:30:00Z'))).toEqual({
      start: at('2026-03-30T07:00:00Z'),
      end: at('2026-03-30T08:00:00Z'),
    });
    // A fixed UTC+1 reading would put this inside; in summer time it is 10:30, outside.
    expect(occurrenceAt(w, at('2026-03-30T08:30:00Z'))).toBeNull();
    // Half-open: the end itself is outside, the start inside.
    expect(occurrenceAt(w, at('2026-03-30T08:00:00Z'))).toBeNull();
    expect(occurrenceAt(w, at('2026-03-30T07:00:00Z'))).not.toBeNull();
  });

  it('moves a start in the skipped hour forward and starts once in the repeated hour', () => {
    const w = recurring('30 2 * * *', 'Europe/Berlin', 30);
    // 29 March: 02:30 does not exist; the window starts at 03:30 CEST (01:30Z).
    expect(occurrencesBetween(w, at('2026-03-29T00:00:00Z'), at('2026-03-30T00:00:00Z'))).toEqual([
      { start: at('2026-03-29T01:30:00Z'), end: at('2026-03-29T02:00:00Z') },
    ]);
    // 25 October: 02:30 happens twice; the window starts once, at the first (00:30Z).
    expect(occurrencesBetween(w, at('2026-10-25T00:00:00Z'), at('2026-10-26T00:00:00Z'))).toEqual([
      { start: at('2026-10-25T00:30:00Z'), end: at('2026-10-25T01:00:00Z') },
    ]);
  });

  it('follows America/New_York across the fall change (Sundays 01:00 local for 2 h)', () => {
    const w = recurring('0 1 * * 0', 'America/New_York', 120);
    // 25 October is EDT (UTC-4); 1 November, the change day, 01:00 EDT is 05:00Z and 01:00
    // comes round again at 06:00Z (EST): the window starts once, at the first, for 2 hours.
    expect(occurrenceAt(w, at('2026-10-25T06:00:00Z'))?.start).toBe(at('2026-10-25T05:00:00Z'));
    expect(occurrenceAt(w, at('2026-11-01T06:30:00Z'))).toEqual({
      start: at('2026-11-01T05:00:00Z'),
      end: at('2026-11-01T07:00:00Z'),
    });
    expect(occurrenceAt(w, at('2026-11-01T07:30:00Z'))).toBeNull();
    expect(occurrencesBetween(w, at('2026-11-01T00:00:00Z'), at('2026-11-02T00:00:00Z'))).toEqual([
      { start: at('2026-11-01T05:00:00Z'), end: at('2026-11-01T07:00:00Z') },
    ]);
    // 8 November is EST (UTC-5): 01:00 is 06:00Z, so 05:30Z is before the window.
    expect(occurrenceAt(w, at('2026-11-08T05:30:00Z'))).toBeNull();
    expect(occurrenceAt(w, at('2026-11-08T07:59:00Z'))?.start).toBe(at('2026-11-08T06:00:00Z'));
  });

  it('honours activeFrom and activeUntil, and one-off windows', () => {
    const w = recurring('0 * * * *', 'UTC', 10, {
      activeFrom: new Date('2026-05-01T12:00:00Z'),
      activeUntil: new Date('2026-05-01T14:00:00Z'),
    });
    expect(occurrenceAt(w, at('2026-05-01T11:05:00Z'))).toBeNull();
    expect(occurrenceAt(w, at('2026-05-01T12:05:00Z'))).not.toBeNull();
    expect(occurrenceAt(w, at('2026-05-01T14:05:00Z'))).toBeNull();
    const once: WindowSpec = {
      ...recurring('', 'UTC', 0),
      cron: null,
      startsAt: new Date(at('2026-05-01T10:00:00Z')),
      endsAt: new Date(at('2026-05-01T11:00:00Z')),
    };
    expect(occurrenceAt(once, at('2026-05-01T10:59:59Z'))).not.toBeNull();
    expect(occurrenceAt(once, at('2026-05-01T11:00:00Z'))).toBeNull();
  });

  it('names what is wrong with a cron expression or a zone', () => {
    expect(cronProblem('0 9 * * *', 'Europe/Berlin')).toBeNull();
    expect(cronProblem('0 9 * * *', 'Mars/Olympus')).toContain('unknown time zone');
    expect(cronProblem('0 9 * *', 'UTC')).toContain('five fields');
    expect(cronProblem('0 25 * * *', 'UTC')).toContain('invalid cron expression');
  });
});
