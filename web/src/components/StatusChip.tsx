import type { RegionState, Verdict } from '../lib/types';

export type Shown = 'up' | 'down' | 'partial' | 'unknown' | 'paused' | 'pending';

export function shownState(
  status: { verdict: Verdict; regions?: Record<string, RegionState> } | null | undefined,
  paused: boolean,
): Shown {
  if (paused) return 'paused';
  if (!status) return 'pending';
  if (status.verdict === 'DOWN') return 'down';
  const regionDown = Object.values(status.regions ?? {}).some((r) => r.verdict === 'DOWN');
  if (status.verdict === 'UP') return regionDown ? 'partial' : 'up';
  return 'unknown';
}

const LABEL: Record<Shown, string> = {
  up: 'Up',
  down: 'Down',
  partial: 'Region down',
  unknown: 'Unknown',
  paused: 'Paused',
  pending: 'Pending',
};

export function StatusChip({ state, title }: { state: Shown; title?: string }) {
  return (
    <span class={`chip chip-${state}`} data-state={state} title={title}>
      {LABEL[state]}
    </span>
  );
}

export function VerdictChip({ verdict, label }: { verdict: Verdict; label?: string }) {
  const state: Shown = verdict === 'UP' ? 'up' : verdict === 'DOWN' ? 'down' : 'unknown';
  return (
    <span class={`chip chip-${state}`} data-state={state}>
      {label ? `${label}: ` : ''}
      {LABEL[state]}
    </span>
  );
}
