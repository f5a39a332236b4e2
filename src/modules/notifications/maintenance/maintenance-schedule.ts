/**
 * When a maintenance window is active, pure: a one-off window is [startsAt, endsAt); a recurring
 * one starts at each time its cron expression names in its IANA time zone (so "0 9 * * *" in
 * Europe/Berlin is 08:00Z in winter and 07:00Z in summer) and lasts durationMinutes, only between
 * activeFrom and activeUntil. A start that falls in a skipped hour (spring forward) moves to the
 * next valid time; a repeated hour (fall back) starts once. Uses cron-parser.
 */
import { CronExpressionParser } from 'cron-parser';

export interface WindowSpec {
  id: string;
  startsAt: Date | null;
  endsAt: Date | null;
  cron: string | null;
  durationMinutes: number | null;
  timeZone: string | null;
  activeFrom: Date | null;
  activeUntil: Date | null;
}

export interface Occurrence {
  start: number;
  end: number;
}

/** The occurrence of `w` that contains `t` (epoch ms), or null. */
export function occurrenceAt(w: WindowSpec, t: number): Occurrence | null {
  if (!w.cron) {
    if (!w.startsAt || !w.endsAt) return null;
    const start = w.startsAt.getTime();
    const end = w.endsAt.getTime();
    return start <= t && t < end ? { start, end } : null;
  }
  if (!inActiveRange(w, t)) return null;
  const duration = (w.durationMinutes ?? 0) * 60_000;
  const start = latestStartAtOrBefore(w.cron, w.timeZone ?? 'UTC', t);
  if (w.activeFrom && start < w.activeFrom.getTime()) return null;
  return t < start + duration ? { start, end: start + duration } : null;
}

/** The first active window among `windows` at `t`, with its occurrence. */
export function activeAt(
  windows: readonly WindowSpec[],
  t: number,
): { window: WindowSpec; occurrence: Occurrence } | null {
  for (const w of windows) {
    const occurrence = occurrenceAt(w, t);
    if (occurrence) return { window: w, occurrence };
  }
  return null;
}

/** Occurrences starting in [from, to), at most `limit` (for listings and the status page). */
export function occurrencesBetween(
  w: WindowSpec,
  from: number,
  to: number,
  limit = 50,
): Occurrence[] {
  if (!w.cron) {
    const o =
      w.startsAt && w.endsAt ? { start: w.startsAt.getTime(), end: w.endsAt.getTime() } : null;
    return o && o.end > from && o.start < to ? [o] : [];
  }
  const duration = (w.durationMinutes ?? 0) * 60_000;
  const begin = Math.max(from - duration, w.activeFrom?.getTime() ?? -Infinity);
  const it = CronExpressionParser.parse(w.cron, {
    tz: w.timeZone ?? 'UTC',
    currentDate: new Date(begin),
    endDate: new Date(Math.min(to, w.activeUntil?.getTime() ?? Infinity)),
  });
  const out: Occurrence[] = [];
  while (out.length < limit && it.hasNext()) {
    const start = it.next().getTime();
    if (start + duration > from) out.push({ start, end: start + duration });
  }
  return out;
}

/** Why a cron expression or time zone is unusable; null when fine. */
export function cronProblem(cron: string, timeZone: string): string | null {
  if (!isTimeZone(timeZone))
    return `unknown time zone ${timeZone} (expected an IANA name such as Europe/Berlin)`;
  if (cron.trim().split(/\s+/).length !== 5)
    return 'expected five fields: minute hour day-of-month month day-of-week';
  try {
    const it = CronExpressionParser.parse(cron, { tz: timeZone });
    it.next();
    return null;
  } catch (e) {
    return `invalid cron expression: ${(e as Error).message}`;
  }
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * The latest start at or before t as forward iteration sees it. prev() can land on the second
 * pass of a repeated local hour (fall back), which forward iteration, and so the listing, skips;
 * such a start is stepped over so both agree that the window starts once.
 */
function latestStartAtOrBefore(cron: string, tz: string, t: number): number {
  // prev() is strictly before its reference, hence +1 ms.
  let start = CronExpressionParser.parse(cron, { tz, currentDate: new Date(t + 1) })
    .prev()
    .getTime();
  for (let k = 0; k < 3; k++) {
    const forward = CronExpressionParser.parse(cron, { tz, currentDate: new Date(start - 1) })
      .next()
      .getTime();
    if (forward === start) break;
    start = CronExpressionParser.parse(cron, { tz, currentDate: new Date(start) })
      .prev()
      .getTime();
  }
  return start;
}

function inActiveRange(w: WindowSpec, t: number): boolean {
  if (w.activeUntil && t >= w.activeUntil.getTime()) return false;
  return true;
}
