import type { DayBar } from '../lib/types';
import { pct } from '../lib/format';

function level(b: DayBar): string {
  if (b.uptimePct === null) return 'none';
  if (b.uptimePct >= 99.9) return 'ok';
  if (b.uptimePct >= 99) return 'minor';
  if (b.uptimePct >= 95) return 'major';
  return 'bad';
}

/** One bar per day, oldest first; the whole strip is one image with a summary as its name. */
export function UptimeBars({ days, label }: { days: DayBar[]; label: string }) {
  const checks = days.reduce((s, d) => s + d.checks, 0);
  const up = days.reduce((s, d) => s + d.upChecks, 0);
  const summary = checks > 0 ? pct((100 * up) / checks) : 'no data';
  return (
    <div class="bars-wrap">
      <div class="bars" role="img" aria-label={`${label}: ${summary} over ${days.length} days`}>
        {days.map((d) => (
          <span
            key={d.day}
            class={`bar bar-${level(d)}`}
            title={`${d.day}: ${d.uptimePct === null ? 'no data' : pct(d.uptimePct)}`}
          />
        ))}
      </div>
      <div class="bars-legend" aria-hidden="true">
        <span>{days.length} days ago</span>
        <span>{summary}</span>
        <span>today</span>
      </div>
    </div>
  );
}
