/**
 * What a badge says and in which colour, from a site's public state. Pure, so the wording
 * and thresholds are tested without rendering.
 */
export type Verdict = 'UP' | 'DOWN' | 'UNKNOWN';

export interface BadgeFace {
  label: string;
  message: string;
  color: string;
}

export interface StatusInput {
  paused: boolean;
  verdict: Verdict | null;
  regions: Record<string, { verdict: Verdict }>;
}

export function statusFace(s: StatusInput): BadgeFace {
  const label = 'status';
  if (s.paused) return { label, message: 'paused', color: 'lightgrey' };
  if (s.verdict === 'DOWN') return { label, message: 'down', color: 'red' };
  const downRegions = Object.entries(s.regions)
    .filter(([, r]) => r.verdict === 'DOWN')
    .map(([name]) => name)
    .sort();
  if (s.verdict === 'UP' && downRegions.length > 0)
    return { label, message: `down in ${downRegions.join(', ')}`, color: 'orange' };
  if (s.verdict === 'UP') return { label, message: 'up', color: 'brightgreen' };
  return { label, message: 'unknown', color: 'lightgrey' };
}

export const UPTIME_WINDOWS = ['24h', '7d', '30d', '90d'] as const;
export type UptimeWindow = (typeof UPTIME_WINDOWS)[number];

export function uptimeFace(window: UptimeWindow, pct: number | null): BadgeFace {
  const label = `uptime ${window}`;
  if (pct === null) return { label, message: 'no data', color: 'lightgrey' };
  return { label, message: `${formatPct(pct)}%`, color: uptimeColor(pct) };
}

/** Two decimals, without rounding 99.996 up to a "100" that never happened. */
export function formatPct(pct: number): string {
  if (pct >= 100) return '100';
  return (Math.floor(pct * 100) / 100).toFixed(2);
}

function uptimeColor(pct: number): string {
  if (pct >= 99.9) return 'brightgreen';
  if (pct >= 99) return 'green';
  if (pct >= 97) return 'yellowgreen';
  if (pct >= 95) return 'yellow';
  if (pct >= 90) return 'orange';
  return 'red';
}
